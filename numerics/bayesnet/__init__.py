"""Bayesian networks, the in-context MLE and the two-layer construction in numbers (Cao et al. 2025)."""
