"""Exercises for stage 00. Write your code here; `make check LESSON=00` tells you how you are doing."""
