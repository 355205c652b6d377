"""Torch models, training, figures, CLI and claims for Cao et al. 2025 (Bayesian networks)."""
