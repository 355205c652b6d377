"""Claims: Standard vs factored attention, decided (Part 2 §9)."""
