"""Exercises for stage 08. Write your code here; `make check LESSON=08` tells you how you are doing."""
