"""Claims: Fig. 3: accuracy against depth with the oracle and in-context Bayes ceilings (Part 2 §B)."""
