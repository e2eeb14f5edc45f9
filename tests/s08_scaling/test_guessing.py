"""Password guessing at one account, from one address and from many: the shared tests in
tests/token_guessing.py, run against stage 08's app."""

# pytest collects the test functions a test module imports (see test_security.py).
from ..token_guessing import *  # noqa: F403
