"""Per-lab teaching code too long for a notebook cell, and the catalogue of labs."""
