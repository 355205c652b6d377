"""Claims: C > 2 colours: the softmax channel (Part 2 §12)."""
