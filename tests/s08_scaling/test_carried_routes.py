"""The routes earlier stages added, under stage 08's rules: the shared tests in
tests/token_carried_routes.py, run against this stage's app. Registration still queues the
welcome email; a profile image follows the profile-edit rule (its owner, or users:write with
users:edit), so staff, who may read others, still may not replace their image."""

from lessons.s08_scaling.dependencies import get_welcome_queue

# pytest collects the test functions a test module imports, so every test in token_carried_routes.py
# runs here against stage 08's app; a star import means a new test there runs here too.
from ..token_carried_routes import *  # noqa: F403
from ..token_carried_routes import check_registering_queues_the_welcome_email, upload


def test_registering_queues_the_welcome_email_after_the_user_is_saved(client):
    check_registering_queues_the_welcome_email(client, get_welcome_queue, {"role": "customer"})


def test_staff_may_read_but_not_replace_someone_elses(client, ada, grace):
    assert upload(client, ada["user"]["id"], grace["access_token"]).status_code == 403
