"""Claims: Fig. 5: accuracy against d, and the CPU stand-ins of Figs. 6-8 (Part 2 §C, §D)."""
