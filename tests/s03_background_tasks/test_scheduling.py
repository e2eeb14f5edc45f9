"""How to test what a route schedules, and the override that silently does nothing."""

from fastapi import BackgroundTasks

from lessons.s03_background_tasks.analytics import record_event
from lessons.s03_background_tasks.main import app
from lessons.s03_background_tasks.thumbnails import make_thumbnails

from .conftest import ACME, png, upload


class RecordingBackgroundTasks(BackgroundTasks):
    """What many tests try: a BackgroundTasks that records instead of running."""

    def __init__(self) -> None:
        super().__init__()
        self.recorded: list[str] = []

    def add_task(self, func, *args, **kwargs) -> None:
        self.recorded.append(func.__name__)


def test_pitfall_overriding_background_tasks_silently_has_no_effect(ada, media_files):
    recorder = RecordingBackgroundTasks()
    app.dependency_overrides[BackgroundTasks] = lambda: recorder
    response = upload(ada, png())
    assert response.status_code == 202
    # FastAPI builds BackgroundTasks itself and never looks at dependency_overrides for it:
    assert recorder.recorded == []  # the recorder was never used...
    assert "acme/users/1/thumbnail-600.png" in media_files()  # ...and the real tasks ran


def test_fixed_override_our_own_get_jobs_and_see_what_was_scheduled(ada, recorded_jobs, media_files):
    response = upload(ada, png())
    assert response.status_code == 202
    images, redis = ada.app_state["images"], ada.app_state["redis"]
    assert recorded_jobs.scheduled == [
        (make_thumbnails, (images, "acme", 1, [150, 300, 600]), {}),
        (record_event, (redis, "acme", "profile_image.uploaded"), {}),
    ]
    # Recorded, not run: the original is stored, no thumbnail was made.
    assert media_files() == ["acme/users/1/original"]


def test_fixed_the_recorded_jobs_can_then_be_run_by_the_test(ada, recorded_jobs, media_files):
    upload(ada, png())
    job, args, kwargs = recorded_jobs.scheduled[0]
    job(*args, **kwargs)  # a plain def: call it; the test decides when
    assert ada.get("/users/1/profile-image", headers=ACME).json()["thumbnails"] == [150, 300, 600]


def test_testclient_runs_the_background_tasks_before_it_returns(ada):
    # Starlette sends the response, then runs the tasks, and TestClient waits for
    # the whole ASGI call to finish: the effects are there the moment it returns.
    response = upload(ada, png())
    assert response.json()["thumbnails"] == []  # when the answer was built
    assert ada.get("/users/1/profile-image", headers=ACME).json()["thumbnails"] == [150, 300, 600]  # right after
    assert ada.get("/analytics", headers=ACME).json() == {"profile_image.uploaded": 1}
