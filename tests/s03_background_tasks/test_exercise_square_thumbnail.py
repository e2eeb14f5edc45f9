"""Exercise 03/square_thumbnail: POST .../profile-image/square schedules a centred square thumbnail."""

import inspect
from io import BytesIO

from PIL import Image

from lessons.s03_background_tasks.exercises import square_thumbnail

from .conftest import ACME, png, upload


def banner() -> bytes:
    """300 x 100: red, then green, then blue, in thirds. Its centred square is all green."""
    picture = Image.new("RGB", (300, 100), "red")
    picture.paste((0, 255, 0), (100, 0, 200, 100))
    picture.paste((0, 0, 255), (200, 0, 300, 100))
    buffer = BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def request_square(client, user_id: int = 1):
    return client.post(f"/users/{user_id}/profile-image/square", headers=ACME)


def test_answers_202_and_schedules_the_job_with_its_arguments(ada, recorded_jobs):
    upload(ada, png())
    recorded_jobs.scheduled.clear()
    response = request_square(ada)
    assert (response.status_code, response.json()) == (202, {"user_id": 1, "size": 128}), (
        "POST should answer 202 with the user id and the size"
    )
    expected = (square_thumbnail.make_square_thumbnail, (ada.app_state["images"], "acme", 1, 128), {})
    assert recorded_jobs.scheduled == [expected], (
        "schedule make_square_thumbnail(images, tenant id, user id, SQUARE_SIZE) through jobs.add, once"
    )


def test_the_square_is_cut_from_the_centre_and_scaled(ada, media_root):
    upload(ada, banner())
    assert request_square(ada).status_code == 202, "POST should answer 202"
    path = media_root / "acme/users/1/square-128.png"
    assert path.is_file(), "the job should save the square at square_path(...), after the response"
    with Image.open(path) as square:
        assert (square.format, square.size) == ("PNG", (128, 128)), "a 128 x 128 PNG"
        pixels = square.convert("RGB")
        corners = [pixels.getpixel(point) for point in ((2, 2), (125, 2), (2, 125), (125, 125), (64, 64))]
    assert all(g > 200 and r < 50 and b < 50 for r, g, b in corners), (
        "the square should be the banner's green middle third: crop around the centre, not the corner"
    )


def test_the_task_is_a_plain_def_that_works_when_called_directly(ada, media_root):
    task = square_thumbnail.make_square_thumbnail
    assert not inspect.iscoroutinefunction(task), "make_square_thumbnail should be a plain def, for the thread pool"
    upload(ada, png(400, 900))
    task(ada.app_state["images"], "acme", 1, 64)
    with Image.open(media_root / "acme/users/1/square-64.png") as square:
        assert square.size == (64, 64), "make_square_thumbnail(..., 64) should save a 64 x 64 image"


def test_without_an_image_it_answers_404_and_schedules_nothing(ada, recorded_jobs):
    response = request_square(ada)
    assert response.status_code == 404, "a user without a profile image should answer 404"
    assert recorded_jobs.scheduled == [], "nothing should be scheduled"
    assert request_square(ada, user_id=5).status_code == 404, "an unknown user should answer 404"
