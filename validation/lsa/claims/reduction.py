"""Claims: The hardness reduction, Thm 3.5 / C.14 (Part 2 §F)."""
