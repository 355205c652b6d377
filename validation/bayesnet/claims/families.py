"""Claims: Graph families chain/tree/general at 5, 7, 10 nodes (Part 2 §7)."""
