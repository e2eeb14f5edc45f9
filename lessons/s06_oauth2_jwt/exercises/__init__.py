"""Exercises for stage 06. Write your code here; `make check LESSON=06` tells you how you are doing."""
