"""Claims: Does trained attention implement the construction? (Part 2 §10)."""
