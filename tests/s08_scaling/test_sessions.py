"""Refresh with rotation and reuse detection, logout, and a password change that ends every session:
the shared tests in tests/token_sessions.py, run against this stage's app."""

# pytest collects the test functions a test module imports, so every test in token_sessions.py
# runs here against stage 08's app; a star import means a new test there runs here too.
from ..token_sessions import *  # noqa: F403
