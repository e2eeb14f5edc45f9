"""The user API, now addressed by integer id: GET and DELETE /users/{user_id}."""

import pytest

from lessons.s03_background_tasks.models import AuditEvent, ProfileImage, User

from .conftest import ACME, ADA, ADMIN, GLOBEX, png, upload


def test_register_then_get_by_id(client):
    assert client.post("/users", json=ADA, headers=ACME).json() == {"id": 1, **ADA}
    response = client.get("/users/1", headers=ACME)
    assert (response.status_code, response.json()) == (200, {"id": 1, **ADA})


def test_an_unknown_id_answers_404_naming_it(client):
    response = client.get("/users/7", headers=ACME)
    assert (response.status_code, response.json()) == (404, {"detail": "No user with id 7"})


def test_an_email_in_the_path_is_no_longer_a_user_address(client):
    client.post("/users", json=ADA, headers=ACME)
    response = client.get("/users/ada@example.com", headers=ACME)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["path", "user_id"]]


def test_ids_are_per_tenant(client):
    client.post("/users", json=ADA, headers=ACME)
    assert client.get("/users/1", headers=GLOBEX).status_code == 404


@pytest.mark.services
def test_delete_by_id_removes_the_user_its_image_row_and_then_its_files(ada, rows, media_files):
    upload(ada, png())
    response = ada.delete("/users/1", headers=ADMIN)
    assert (response.status_code, response.content) == (204, b"")
    assert ada.get("/users/1", headers=ACME).status_code == 404
    assert (rows(User), rows(ProfileImage), rows(AuditEvent)) == (0, 0, 2)
    assert media_files() == []  # removed by the background job, which TestClient ran before returning


def test_delete_schedules_the_file_removal_for_after_the_answer(ada, recorded_jobs, media_files):
    upload(ada, png())  # get_jobs is overridden: no thumbnails are made, only the original is stored
    recorded_jobs.scheduled.clear()
    assert ada.delete("/users/1", headers=ADMIN).status_code == 204
    images = ada.app_state["images"]
    assert recorded_jobs.scheduled == [(images.remove, ("acme", 1), {})]
    assert media_files() == ["acme/users/1/original"]  # still there: the recorder ran nothing


def test_deleting_an_absent_user_answers_404_and_schedules_nothing(client, recorded_jobs):
    response = client.delete("/users/3", headers=ADMIN)
    assert (response.status_code, response.json()) == (404, {"detail": "No user with id 3"})
    assert recorded_jobs.scheduled == []


def test_docs_list_the_routes_by_id(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/users/{user_id}", "/users/{user_id}/profile-image", "/users/{user_id}/profile-image/{size}"} <= set(paths)
    assert "/users/{email}" not in paths
    assert {"get", "delete"} <= paths["/users/{user_id}"].keys()
    assert {"post", "get", "delete"} <= paths["/users/{user_id}/profile-image"].keys()
    assert "multipart/form-data" in paths["/users/{user_id}/profile-image"]["post"]["requestBody"]["content"]


def test_delete_by_id_still_needs_the_permission_chain(ada):
    without_key = ada.delete("/users/1", headers=ACME)
    viewer = ada.delete("/users/1", headers={**ACME, "X-API-Key": "acme-viewer-key"})
    assert (without_key.status_code, viewer.status_code) == (401, 403)
    assert ada.get("/users/1", headers=ACME).status_code == 200
