"""Claims: k-state chains with Dirichlet kernels, Lemma C.8 (Part 2 §E)."""
