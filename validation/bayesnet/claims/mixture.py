"""Claims: Mixture of random DAGs, the Bayes model average, the structure mask (Part 2 §8)."""
