"""Attacks on the tokens and the log-in: the shared ones in tests/token_attacks.py, run against
this stage's app, and the answer to a request with no token at all."""

from ..auth_helpers import ACME

# pytest collects the test functions a test module imports, so every attack in token_attacks.py
# runs here against stage 06's app; a star import means a new attack there runs here too.
from ..token_attacks import *  # noqa: F403


def test_no_token_answers_401_with_a_bearer_challenge(client):
    response = client.get("/users/me", headers=ACME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"
