"""Exercise 03/delete_profile_image: the row now, the files after the answer."""

from lessons.s03_background_tasks.models import ProfileImage

from .conftest import ACME, GLOBEX, png, upload


def delete_image(client, headers=ACME):
    return client.delete("/users/1/profile-image", headers=headers)


def test_answers_204_and_the_image_is_gone_at_once(ada, rows):
    upload(ada, png())
    response = delete_image(ada)
    assert (response.status_code, response.content) == (204, b""), "DELETE should answer 204 with no body"
    assert ada.get("/users/1/profile-image", headers=ACME).status_code == 404, "GET should answer 404 after DELETE"
    assert rows(ProfileImage) == 0, "the profile image's row should be deleted (and committed)"


def test_the_files_are_removed_by_a_scheduled_job_not_in_the_route(ada, recorded_jobs, rows, media_files):
    upload(ada, png())  # get_jobs is overridden, so only the original is stored
    recorded_jobs.scheduled.clear()
    assert delete_image(ada).status_code == 204, "DELETE should answer 204"
    images = ada.app_state["images"]
    assert recorded_jobs.scheduled == [(images.remove, ("acme", 1), {})], (
        "exactly one job should be scheduled through jobs.add: images.remove with the tenant id and the user id"
    )
    assert media_files() == ["acme/users/1/original"], "the route must not delete files itself: the job does"
    assert rows(ProfileImage) == 0, "the row is deleted before the answer, not in the job"


def test_after_the_job_runs_no_file_is_left(ada, media_files):
    upload(ada, png())
    delete_image(ada)
    assert media_files() == [], "the original and every thumbnail should be gone once the job has run"


def test_without_an_image_it_answers_404_and_schedules_nothing(ada, recorded_jobs):
    response = delete_image(ada)
    assert response.status_code == 404, "a user without a profile image should answer 404"
    assert response.json() == {"detail": "User 1 has no profile image"}, "use ProfileImageService.get's error"
    assert recorded_jobs.scheduled == [], "nothing should be scheduled when there is nothing to delete"


def test_only_the_requests_tenant_is_touched(ada, rows, media_files):
    ada.post("/users", json={"email": "hank@globex.example", "name": "Hank"}, headers=GLOBEX)
    upload(ada, png())
    upload(ada, png(), headers=GLOBEX)
    assert delete_image(ada, headers=GLOBEX).status_code == 204, "DELETE should answer 204"
    assert rows(ProfileImage, "acme") == 1, "acme's image row must stay"
    assert [name for name in media_files() if name.startswith("globex/")] == [], "globex's files should be gone"
    assert "acme/users/1/original" in media_files(), "acme's files must stay"
