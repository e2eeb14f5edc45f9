"""What BackgroundTasks loses, shown on a real server: the client already has its 2xx."""

import logging
import signal
import time
from pathlib import Path

import httpx2
import pytest
from fastapi import Request

from lessons.s03_background_tasks.dependencies import get_image_store
from lessons.s03_background_tasks.main import app
from lessons.s03_background_tasks.media import ImageStore

from .conftest import ACME, ADA, large_png, served_in_a_process, served_in_a_thread


class FullDiskImageStore(ImageStore):
    """Stores originals, then runs out of space when the thumbnails are written."""

    def save_thumbnail(self, tenant_id, user_id, size, image):
        raise OSError(28, "No space left on device")


def full_disk(request: Request) -> ImageStore:
    return FullDiskImageStore(request.state.images.root)


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_a_task_that_raises_reaches_only_the_log_and_stops_the_tasks_after_it(stage_env, caplog):
    app.dependency_overrides[get_image_store] = full_disk
    try:
        with caplog.at_level(logging.ERROR), served_in_a_thread(app) as url:
            httpx2.post(f"{url}/users", json=ADA, headers=ACME)
            files = {"file": ("me.png", large_png(800, 600), "image/png")}
            response = httpx2.post(f"{url}/users/1/profile-image", files=files, headers=ACME)
            wait_for(lambda: any(record.exc_info for record in caplog.records))
            listing = httpx2.get(f"{url}/users/1/profile-image", headers=ACME).json()
            counts = httpx2.get(f"{url}/analytics", headers=ACME).json()
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 202  # the client was told all is well
    [failure] = [record for record in caplog.records if record.exc_info]
    assert failure.name == "uvicorn.error"
    assert "No space left on device" in str(failure.exc_info[1])  # the error went to the log, nowhere else
    assert listing["thumbnails"] == []  # no thumbnail, and nobody will retry
    assert counts == {}  # record_event was scheduled after make_thumbnails: it never ran


@pytest.fixture
def served_with_files(tmp_path):
    env = {"WORKBOOK_MEDIA_DIR": str(tmp_path / "media"), "WORKBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    with served_in_a_process(env) as (process, url):
        yield process, url, tmp_path / "media"


def test_a_process_that_stops_loses_the_thumbnails_it_had_not_made(served_with_files):
    process, url, media = served_with_files
    httpx2.post(f"{url}/users", json=ADA, headers=ACME)
    files = {"file": ("me.png", large_png(), "image/png")}
    response = httpx2.post(f"{url}/users/1/profile-image", files=files, headers=ACME)
    process.kill()  # a deploy, a crash, an OOM kill: right after the answer
    process.wait(timeout=10)
    assert response.status_code == 202
    user_folder = media / "acme" / "users" / "1"
    time.sleep(0.5)  # time enough for the thumbnails, had anything still been working on them
    assert sorted(path.name for path in user_folder.iterdir() if not path.name.startswith(".")) == ["original"]


def test_after_a_restart_nothing_resumes_the_lost_work(served_with_files, tmp_path):
    process, url, media = served_with_files
    httpx2.post(f"{url}/users", json=ADA, headers=ACME)
    httpx2.post(f"{url}/users/1/profile-image", files={"file": ("me.png", large_png(), "image/png")}, headers=ACME)
    process.kill()
    process.wait(timeout=10)
    env = {"WORKBOOK_MEDIA_DIR": str(media), "WORKBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    with served_in_a_process(env) as (_, restarted):
        first = httpx2.get(f"{restarted}/users/1/profile-image", headers=ACME).json()
        time.sleep(0.5)
        later = httpx2.get(f"{restarted}/users/1/profile-image", headers=ACME).json()
    assert (first["width"], first["thumbnails"], later["thumbnails"]) == (4000, [], [])
    assert not any(Path(media).rglob("thumbnail-*.png"))


def test_a_graceful_stop_finishes_the_job_in_flight_and_a_kill_loses_it(tmp_path):
    """SIGTERM (a deploy's first signal): uvicorn waits for the running background task; SIGKILL does not."""
    stops = {}
    for how in (signal.SIGTERM, signal.SIGKILL):
        folder = tmp_path / how.name
        env = {
            "WORKBOOK_MEDIA_DIR": str(folder / "media"),
            "WORKBOOK_DATABASE_URL": f"sqlite:///{tmp_path / how.name}.db",
        }
        with served_in_a_process(env) as (process, url):
            httpx2.post(f"{url}/users", json=ADA, headers=ACME)
            files = {"file": ("me.png", large_png(), "image/png")}
            response = httpx2.post(f"{url}/users/1/profile-image", files=files, headers=ACME)
            signalled = time.monotonic()
            process.send_signal(how)
            process.wait(timeout=30)
            stops[how] = time.monotonic() - signalled
        assert response.status_code == 202
    # The graceful stop took as long as the rest of the job; wait three times that after the kill.
    time.sleep(3 * stops[signal.SIGTERM])
    made = {how: sorted(path.name for path in (tmp_path / how.name).rglob("thumbnail-*.png")) for how in stops}
    assert made[signal.SIGTERM] == ["thumbnail-150.png", "thumbnail-300.png", "thumbnail-600.png"]
    assert made[signal.SIGKILL] == []
