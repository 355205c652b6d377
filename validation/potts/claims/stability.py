"""Claims: Replica-symmetry stability of R1 and R2 (Part 2 §11)."""
