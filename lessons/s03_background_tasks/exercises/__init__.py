"""Exercises for stage 03. Write your code here; `make check LESSON=03` tells you how you are doing."""
