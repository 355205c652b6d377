"""Claims: Real networks: Asia and Sachs, semi-synthetic (Part 2 §12)."""
