"""POST /token's errors in RFC 6749's shape: the shared tests in tests/token_errors.py, run against this stage's app."""

# pytest collects the test functions a test module imports; a star import means a new test there runs here too.
from ..token_errors import *  # noqa: F403
