"""The routes earlier stages added, with stage 06's tokens: the shared tests in
tests/token_carried_routes.py, run against this stage's app."""

from lessons.s06_oauth2_jwt.dependencies import get_welcome_queue

# pytest collects the test functions a test module imports, so every test in token_carried_routes.py
# runs here against stage 06's app; a star import means a new test there runs here too.
from ..token_carried_routes import *  # noqa: F403
from ..token_carried_routes import check_registering_queues_the_welcome_email


def test_registering_queues_the_welcome_email_after_the_user_is_saved(client):
    check_registering_queues_the_welcome_email(client, get_welcome_queue, {"is_admin": False})
