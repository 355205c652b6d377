"""Claims: Accuracy next to TV, and the Bayes baseline (Part 2 §11)."""
