"""The claims of Cao et al. 2025: the in-context MLE and the construction, trained transformers."""
