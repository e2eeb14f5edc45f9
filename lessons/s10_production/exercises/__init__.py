"""Exercises for stage 10. Write your code here; `make check LESSON=10` tells you how you are doing."""
