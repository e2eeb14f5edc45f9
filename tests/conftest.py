"""Fixtures shared by every stage's tests."""
