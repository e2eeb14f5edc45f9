"""Exercises for stage 02. Write your code here; `make check LESSON=02` tells you how you are doing."""
