"""Exercises for stage 04. Write your code here; `make check LESSON=04` tells you how you are doing."""
