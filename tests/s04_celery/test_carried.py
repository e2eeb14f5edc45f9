"""What stages 02 and 03 built still works in stage 04, with registration at POST /users/register."""

from io import BytesIO

from PIL import Image

from .conftest import ACME, GLOBEX, STAGE, register

ADMIN = {**ACME, "X-API-Key": "acme-admin-key"}


def png(width: int = 600, height: int = 400) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def test_users_are_addressed_by_id_per_tenant(client, queued):
    user = register(client, "ada@example.com").json()["user"]
    assert client.get(f"/users/{user['id']}", headers=ACME).json() == user
    assert client.get(f"/users/{user['id']}", headers=GLOBEX).json() == {"detail": f"No user with id {user['id']}"}


def test_delete_still_needs_the_permission_chain(client, queued):
    register(client, "ada@example.com")
    assert client.delete("/users/1", headers=ACME).status_code == 401
    assert client.delete("/users/1", headers={**ACME, "X-API-Key": "acme-viewer-key"}).status_code == 403
    assert client.delete("/users/1", headers=ADMIN).status_code == 204
    assert client.get("/users/1", headers=ACME).status_code == 404


def test_a_profile_image_gets_its_thumbnails_after_the_response(client, queued):
    register(client, "ada@example.com")
    response = client.post("/users/1/profile-image", files={"file": ("me.png", png(), "image/png")}, headers=ACME)
    assert response.status_code == 202
    # TestClient runs the background tasks before it returns the response.
    assert client.get("/users/1/profile-image", headers=ACME).json()["thumbnails"] == [150, 300, 600]
    assert client.get("/users/1/profile-image/150", headers=ACME).headers["content-type"] == "image/png"
    assert client.get("/analytics", headers=ACME).json()["profile_image.uploaded"] == 1


def test_the_rate_limit_still_counts_registrations(client, queued, monkeypatch):
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "2")
    for limited in STAGE.serve():
        answers = [register(limited, f"user{n}@example.com").status_code for n in range(3)]
        assert answers == [201, 201, 429]
