"""Exercises for stage 09. Write your code here; `make check LESSON=09` tells you how you are doing."""
