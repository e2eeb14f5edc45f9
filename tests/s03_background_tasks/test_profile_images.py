"""POST /users/{user_id}/profile-image: the upload, its checks, and the thumbnails it leads to."""

from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import event
from sqlalchemy.orm import Session

from lessons.s03_background_tasks.models import ProfileImage

from .conftest import ACME, GLOBEX, png, started, upload

SIZES = [150, 300, 600]


def thumbnail_of(client, size: int, user_id: int = 1, headers=ACME) -> Image.Image:
    response = client.get(f"/users/{user_id}/profile-image/{size}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(BytesIO(response.content))
    image.load()  # decodes every pixel: a truncated or fake file would raise here
    return image


@pytest.mark.services
def test_upload_answers_202_before_any_thumbnail_and_stores_the_original(ada, rows, media_files):
    response = upload(ada, png(1200, 800))
    assert response.status_code == 202
    # The answer was built before the background task ran: no thumbnail existed yet.
    assert response.json() == {"user_id": 1, "format": "PNG", "width": 1200, "height": 800, "thumbnails": []}
    assert rows(ProfileImage) == 1
    # TestClient runs the background tasks before returning, so by now they are done.
    assert media_files() == [
        "acme/users/1/original",
        "acme/users/1/thumbnail-150.png",
        "acme/users/1/thumbnail-300.png",
        "acme/users/1/thumbnail-600.png",
    ]


def test_thumbnails_are_real_images_with_the_longest_side_scaled_and_the_aspect_kept(ada):
    upload(ada, png(1200, 800))
    assert ada.get("/users/1/profile-image", headers=ACME).json()["thumbnails"] == SIZES
    sizes = {size: thumbnail_of(ada, size).size for size in SIZES}
    assert sizes == {150: (150, 100), 300: (300, 200), 600: (600, 400)}


def test_a_portrait_image_is_scaled_by_its_height(ada):
    upload(ada, png(600, 1800))
    assert thumbnail_of(ada, 300).size == (100, 300)


def test_a_small_image_is_never_enlarged(ada):
    upload(ada, png(200, 100))
    assert {size: thumbnail_of(ada, size).size for size in SIZES} == {150: (150, 75), 300: (200, 100), 600: (200, 100)}


def test_the_thumbnail_keeps_the_pictures_colours(ada):
    upload(ada, png(900, 900, colour="red"))
    assert thumbnail_of(ada, 150).convert("RGB").getpixel((75, 75)) == (255, 0, 0)


def test_jpeg_and_gif_uploads_become_png_thumbnails(ada):
    for fmt, mode in (("JPEG", "RGB"), ("GIF", "P")):
        buffer = BytesIO()
        Image.new(mode, (800, 400)).save(buffer, format=fmt)
        response = upload(ada, buffer.getvalue(), filename="photo", content_type="application/octet-stream")
        assert (response.status_code, response.json()["format"]) == (202, fmt)
        assert thumbnail_of(ada, 300).size == (300, 150)


def test_a_new_upload_replaces_the_old_image_and_its_thumbnails(ada, rows):
    upload(ada, png(1200, 800))
    upload(ada, png(400, 800))
    assert ada.get("/users/1/profile-image", headers=ACME).json() == {
        "user_id": 1,
        "format": "PNG",
        "width": 400,
        "height": 800,
        "thumbnails": SIZES,
    }
    assert thumbnail_of(ada, 600).size == (300, 600)
    assert rows(ProfileImage) == 1


@contextmanager
def commits_refused() -> Iterator[None]:
    """Every session's commit fails, as it would with the database gone."""

    def refuse(session: Session) -> None:
        raise RuntimeError("database unavailable")

    event.listen(Session, "before_commit", refuse)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", refuse)


def test_a_failed_commit_stores_no_file(ada, rows, media_files):
    with commits_refused(), pytest.raises(RuntimeError):
        upload(ada, png())
    assert (rows(ProfileImage), media_files()) == (0, []), "no row, so no file either"


def test_a_failed_commit_leaves_the_earlier_image_as_it_was(ada, rows, media_root, media_files):
    upload(ada, png(1200, 800))
    stored = [(name, (media_root / name).read_bytes()) for name in media_files()]
    with commits_refused(), pytest.raises(RuntimeError):
        upload(ada, png(400, 800))
    assert [(name, (media_root / name).read_bytes()) for name in media_files()] == stored, (
        "the earlier original and its thumbnails should be untouched"
    )
    assert ada.get("/users/1/profile-image", headers=ACME).json()["width"] == 1200
    assert rows(ProfileImage) == 1


# --- Bad input: a clear 4xx, and nothing stored --------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "detail"),
    [
        # A 422 in the shape the schema documents for every 422: a list of problems.
        (b"", 422, [{"type": "value_error", "loc": ["body", "file"], "msg": "The uploaded file is empty"}]),
        (b"GIF89a, or so I claim", 415, "The file is not an image this shop can read (PNG, JPEG, GIF or WebP)"),
        (png()[:-200], 415, "The file is not an image this shop can read (PNG, JPEG, GIF or WebP)"),
    ],
    ids=["empty", "text-named-png", "truncated-png"],
)
@pytest.mark.services
def test_bad_files_are_refused_and_nothing_is_stored(ada, rows, media_files, data, status, detail):
    # The filename and the content type both claim a PNG: only the bytes count.
    response = upload(ada, data, filename="me.png", content_type="image/png")
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert (rows(ProfileImage), media_files()) == (0, [])


def test_an_image_format_outside_the_list_is_refused(ada, media_files):
    buffer = BytesIO()
    Image.new("RGB", (50, 50)).save(buffer, format="BMP")
    response = upload(ada, buffer.getvalue())
    assert (response.status_code, response.json()) == (
        415,
        {"detail": "BMP images are not accepted; send PNG, JPEG, GIF or WebP"},
    )
    assert media_files() == []


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setenv("WORKBOOK_MAX_UPLOAD_BYTES", "2000")


@pytest.mark.services
def test_a_file_over_the_limit_answers_413_and_stores_nothing(small_limit, ada, rows, media_files):
    small = png(300, 300, colour="navy")
    noisy = Image.effect_noise((200, 200), 64)  # noise does not compress: a PNG well over 2000 bytes
    buffer = BytesIO()
    noisy.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 2000 > len(small)
    response = upload(ada, buffer.getvalue())
    assert (response.status_code, response.json()) == (
        413,
        {"detail": "The file is larger than the limit of 2,000 bytes"},
    )
    assert (rows(ProfileImage), media_files()) == (0, [])
    assert upload(ada, small).status_code == 202  # under the limit: accepted


def test_a_missing_file_field_answers_422(ada, media_files):
    response = ada.post("/users/1/profile-image", headers=ACME)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "file"]]
    assert media_files() == []


@pytest.mark.services
def test_an_unknown_user_answers_404_and_stores_nothing(ada, rows, media_files):
    response = upload(ada, png(), user_id=42)
    assert (response.status_code, response.json()) == (404, {"detail": "No user with id 42"})
    assert (rows(ProfileImage), media_files()) == (0, [])


@pytest.mark.parametrize(("headers", "status"), [({}, 400), ({"X-Tenant-ID": "initech"}, 404)])
def test_a_missing_or_unknown_tenant_is_refused_and_stores_nothing(ada, media_files, headers, status):
    assert upload(ada, png(), headers=headers).status_code == status
    assert media_files() == []


def test_the_clients_filename_never_becomes_a_path(ada, media_root, media_files):
    response = upload(ada, png(), filename="../../../etc/evil.png")
    assert response.status_code == 202
    assert all(name.startswith("acme/users/1/") for name in media_files())
    assert not (media_root.parent / "etc").exists()


# --- Reading the thumbnails ----------------------------------------------------------------------


def test_a_user_without_an_image_answers_404(ada):
    response = ada.get("/users/1/profile-image", headers=ACME)
    assert (response.status_code, response.json()) == (404, {"detail": "User 1 has no profile image"})


def test_a_size_that_was_not_made_answers_404(ada):
    upload(ada, png())
    response = ada.get("/users/1/profile-image/250", headers=ACME)
    assert response.status_code == 404
    assert response.json() == {"detail": "User 1 has no 250 px thumbnail (yet); see GET /users/1/profile-image"}


@pytest.mark.services
def test_tenants_are_kept_apart_on_disk_and_in_the_api(ada, rows, media_files):
    ada.post("/users", json={"email": "hank@globex.example", "name": "Hank"}, headers=GLOBEX)
    upload(ada, png(1200, 800), headers=ACME)
    upload(ada, png(800, 1200), headers=GLOBEX)
    assert [name for name in media_files() if name.endswith("original")] == [
        "acme/users/1/original",
        "globex/users/1/original",
    ]
    assert thumbnail_of(ada, 150, headers=ACME).size == (150, 100)
    assert thumbnail_of(ada, 150, headers=GLOBEX).size == (100, 150)
    assert (rows(ProfileImage, "acme"), rows(ProfileImage, "globex")) == (1, 1)


def test_the_media_folder_is_temporary_by_default_and_removed_at_shutdown(stage_env):
    with started() as client:
        root = client.app_state["images"].root
        assert root.is_dir() and root.name.startswith("storefront-media-")
    assert not root.exists()  # the lifespan ended, and took the folder with it


def test_a_configured_media_folder_is_used_and_kept(stage_env, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_MEDIA_DIR", str(tmp_path))
    with started() as client:
        client.post("/users", json={"email": "ada@example.com", "name": "Ada"}, headers=ACME)
        assert upload(client, png()).status_code == 202
    assert (tmp_path / "acme/users/1/thumbnail-600.png").is_file()


def test_uploads_count_against_the_rate_limit_and_a_refused_one_stores_nothing(stage_env, monkeypatch):
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "2")
    with started() as client:
        client.post("/users", json={"email": "ada@example.com", "name": "Ada"}, headers=ACME)  # request 1
        assert upload(client, png()).status_code == 202  # request 2
        client.app_state["images"].remove("acme", 1)
        response = upload(client, png())  # request 3: over the limit
        assert response.status_code == 429
        assert not client.app_state["images"].user_dir("acme", 1).exists()
