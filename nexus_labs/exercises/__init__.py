"""The exercise engine (check / hint / solution, feedback, progress) and one module per lab."""
