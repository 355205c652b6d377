"""Claims: Fig. 2's Pareto view (Part 2 §A)."""
