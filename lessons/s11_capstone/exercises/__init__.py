"""Exercises for stage 11. Write your code here; `make check LESSON=11` tells you how you are doing."""
