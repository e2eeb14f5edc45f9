"""Exercises for stage 05. Write your code here; `make check LESSON=05` tells you how you are doing."""
