"""Exercises for stage 07. Write your code here; `make check LESSON=07` tells you how you are doing."""
