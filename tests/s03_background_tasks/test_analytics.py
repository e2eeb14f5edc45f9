"""Fire-and-forget counters: written to Redis by async background tasks, after the response."""

import pytest

from lessons.s03_background_tasks.analytics import analytics_key

from ..stage_apps import run_redis
from .conftest import ACME, GLOBEX, png, upload

pytestmark = pytest.mark.services


def test_uploads_and_views_are_counted_per_tenant(ada):
    ada.post("/users", json={"email": "hank@globex.example", "name": "Hank"}, headers=GLOBEX)
    upload(ada, png())
    upload(ada, png())
    upload(ada, png(), headers=GLOBEX)
    ada.get("/users/1/profile-image/150", headers=ACME)
    assert ada.get("/analytics", headers=ACME).json() == {"profile_image.uploaded": 2, "profile_image.viewed": 1}
    assert ada.get("/analytics", headers=GLOBEX).json() == {"profile_image.uploaded": 1}
    assert run_redis(ada, "hgetall", analytics_key("acme")) == {
        "profile_image.uploaded": "2",
        "profile_image.viewed": "1",
    }


def test_refused_uploads_and_missing_thumbnails_count_nothing(ada):
    upload(ada, b"not an image")
    upload(ada, png(), user_id=99)
    ada.get("/users/1/profile-image/150", headers=ACME)
    assert ada.get("/analytics", headers=ACME).json() == {}


def test_the_counter_is_scheduled_not_awaited_in_the_route(ada, recorded_jobs):
    upload(ada, png())
    assert recorded_jobs.names == ["make_thumbnails", "record_event"]
    _, args, _ = recorded_jobs.scheduled[1]
    assert args == (ada.app_state["redis"], "acme", "profile_image.uploaded")
    assert ada.get("/analytics", headers=ACME).json() == {}  # recorded, never run
