"""Claims: Context-length generalisation (Part 2 §9)."""
