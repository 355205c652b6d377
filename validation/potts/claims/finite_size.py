"""Claims: Replica curves by finite-size extrapolation (Part 2 §10)."""
