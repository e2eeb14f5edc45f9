"""Exercises for stage 01. Write your code here; `make check LESSON=01` tells you how you are doing."""
