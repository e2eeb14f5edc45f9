"""Uploads built to hurt: broken pixels, decompression bombs, endless bodies, and many at once.

The modules under test (uploads.py, thumbnails.py, media.py, profile_images.py)
are carried unchanged into every later stage, so these tests cover them there too.
"""

import json
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import httpx2
import pytest
import starlette.formparsers
from PIL import Image

from lessons.s03_background_tasks.main import app
from lessons.s03_background_tasks.models import ProfileImage
from lessons.s03_background_tasks.thumbnails import MAX_DECODED_PIXELS, MEMORY_BOUND_BYTES
from lessons.s03_background_tasks.uploads import FORM_OVERHEAD_BYTES
from workbook.stages import ROOT

from .conftest import ACME, ADA, STAGE, png, served_in_a_thread, upload
from .test_losses import wait_for

UNREADABLE = "The file is not an image this shop can read (PNG, JPEG, GIF or WebP)"
SIZES = [150, 300, 600]


def jpeg(width: int = 1200, height: int = 800, mode: str = "RGB") -> bytes:
    buffer = BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert(mode).save(buffer, format="JPEG")
    return buffer.getvalue()


def png_with_corrupt_pixels() -> bytes:
    """A PNG whose every chunk checksum is right, but whose compressed pixel data is garbage.

    Its header and structure pass `Image.verify()`; only decoding the pixels fails.
    """
    data = bytearray(png(400, 300, colour="orange"))
    start = data.index(b"IDAT") + 4  # the chunk's data follows its type
    (length,) = struct.unpack(">I", data[start - 8 : start - 4])
    for index in range(start + 8, start + length):  # keep the zlib header, scramble the rest
        data[index] ^= 0x5A
    crc = zlib.crc32(data[start - 4 : start + length])
    data[start + length : start + length + 4] = struct.pack(">I", crc)
    return bytes(data)


def bomb(width: int = 6000, height: int = 6000) -> bytes:
    """A few KB of PNG that decodes to width x height pixels: a decompression bomb."""
    buffer = BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- Decoding every pixel before answering ----------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [jpeg()[: len(jpeg()) // 2], png_with_corrupt_pixels()],
    ids=["truncated-jpeg", "corrupt-png-pixels"],
)
@pytest.mark.services
def test_an_image_that_cannot_be_decoded_is_refused_before_anything_is_stored(ada, rows, media_files, data):
    with Image.open(BytesIO(data)) as image:
        assert image.format in ("JPEG", "PNG")  # the header alone looks fine
    response = upload(ada, data)
    assert (response.status_code, response.json()) == (415, {"detail": UNREADABLE})
    assert (rows(ProfileImage), media_files()) == (0, [])


def test_a_decompression_bomb_is_refused_from_its_header(ada, media_files):
    data = bomb()
    assert len(data) < 10_000
    response = upload(ada, data)
    assert (response.status_code, response.json()) == (
        415,
        {"detail": f"The image has more than {MAX_DECODED_PIXELS:,} pixels to decode; send a smaller one"},
    )
    assert media_files() == []


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_accepted(ada):
    # 15 megapixels declared, over the decoded bound: a JPEG decodes at 1/4 scale
    # for a 600 px thumbnail, so it never takes more than a megapixel.
    data = jpeg(5000, 3000, mode="L")
    response = upload(ada, data, filename="photo.jpg", content_type="image/jpeg")
    assert response.status_code == 202, response.text
    assert response.json() | {"thumbnails": SIZES} == {
        "user_id": 1,
        "format": "JPEG",
        "width": 5000,
        "height": 3000,
        "thumbnails": SIZES,
    }
    thumbnail = ada.get("/users/1/profile-image/600", headers=ACME)
    assert Image.open(BytesIO(thumbnail.content)).size == (600, 360)


def test_the_exif_orientation_is_applied_to_the_thumbnails(ada):
    buffer = BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; rotate 90 degrees clockwise to show it
    Image.new("RGB", (1200, 800), "teal").save(buffer, format="JPEG", exif=exif)
    assert upload(ada, buffer.getvalue()).status_code == 202
    thumbnail = ada.get("/users/1/profile-image/300", headers=ACME)
    assert Image.open(BytesIO(thumbnail.content)).size == (200, 300)


# --- Memory: what the worst image the bounds allow costs ---------------------------------------------

# Runs in a fresh interpreter, and measures with Linux's own accounting: writing 5
# to /proc/self/clear_refs resets the peak resident memory (VmHWM) to the current
# one (VmRSS), so the peak after the job is the job's. (ru_maxrss would not do: a
# child starts with its parent's peak, and pytest's is far higher.)
MEASURE = """
import json, re, sys
from pathlib import Path
from PIL import Image
from lessons.s03_background_tasks.media import ImageStore
from lessons.s03_background_tasks.thumbnails import make_thumbnails

def memory(field):
    status = Path("/proc/self/status").read_text()
    return int(re.search(field + r":\\s+(\\d+) kB", status).group(1)) * 1024

store = ImageStore(Path(sys.argv[1]))
warm = store.original("acme", 2)  # a first, tiny run loads every module and codec the job uses
warm.parent.mkdir(parents=True)
Image.new("RGB", (64, 64)).save(warm, format="PNG")
make_thumbnails(store, "acme", 2, [150, 300, 600])
Path("/proc/self/clear_refs").write_text("5")
before = memory("VmRSS")
make_thumbnails(store, "acme", 1, [150, 300, 600])
print(json.dumps({"used": memory("VmHWM") - before}))
"""


# The images with the most decoded pixels the bounds allow, in each costly mode and format.
WORST_CASES = {
    "png-rgba": ("RGBA", "PNG"),  # 4 bytes a pixel, and RGBA resizes through a premultiplied copy
    "png-palette": ("P", "PNG"),  # 1 byte a pixel, but made full colour before resizing
    "png-16-bit-grey": ("I;16", "PNG"),
    "webp-rgba": ("RGBA", "WEBP"),  # WebP has no reduced decoding
    "gif": ("P", "GIF"),
}


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures with Linux's /proc accounting")
@pytest.mark.parametrize(("mode", "fmt"), WORST_CASES.values(), ids=WORST_CASES.keys())
def test_the_worst_image_the_bounds_allow_takes_less_memory_than_stated(tmp_path, mode, fmt):
    width = 4000  # and a height that makes exactly the most pixels allowed
    height = MAX_DECODED_PIXELS // width
    original = tmp_path / "acme/users/1/original"
    original.parent.mkdir(parents=True)
    Image.new(mode, (width, height)).save(original, format=fmt)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout.splitlines()[-1])
    assert sorted(path.name for path in original.parent.glob("thumbnail-*")) == [
        f"thumbnail-{size}.png" for size in SIZES
    ]
    used = memory["used"]
    # At least a byte a pixel, or the job did not really decode the image; and
    # under the figure thumbnails.py states.
    assert MAX_DECODED_PIXELS < used < MEMORY_BOUND_BYTES, f"{fmt} {mode}: {used / 1e6:.0f} MB"


# --- Many uploads at once ----------------------------------------------------------------------------


def expected_thumbnail(width: int, height: int, size: int) -> tuple[int, int]:
    box = Image.new("1", (width, height))
    box.thumbnail((size, size))
    return box.size


def upload_all_at_once(url: str, user_id: int, pictures: list[bytes]) -> list[int]:
    """POST every picture for one user from its own thread, released together by a barrier."""
    gate = threading.Barrier(len(pictures))

    def post(data: bytes) -> int:
        files = {"file": ("me.png", data, "image/png")}
        gate.wait()
        return httpx2.post(f"{url}/users/{user_id}/profile-image", files=files, headers=ACME, timeout=60).status_code

    with ThreadPoolExecutor(len(pictures)) as pool:
        return list(pool.map(post, pictures))


def settled(url: str, user_id: int) -> dict:
    """The user's image once every thumbnail of the image the row describes is there."""

    def consistent() -> dict | None:
        image = httpx2.get(f"{url}/users/{user_id}/profile-image", headers=ACME).json()
        if image["thumbnails"] != SIZES:
            return None
        response = httpx2.get(f"{url}/users/{user_id}/profile-image/600", headers=ACME)
        largest = Image.open(BytesIO(response.content)).size if response.status_code == 200 else None
        return image if largest == (image["width"], image["height"]) else None

    wait_for(consistent, seconds=30)
    return consistent()


def only_final_files(folder: Path) -> list[str]:
    """The folder's files once no job is writing: temporary names start with a dot.

    The jobs of the other uploads may still be rewriting the same thumbnails, each
    under a temporary name first; a staged original left behind would never go.
    """
    wait_for(lambda: not any(path.name.startswith(".") for path in folder.iterdir()), seconds=30)
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.services
def test_parallel_uploads_for_one_user_all_answer_and_leave_one_consistent_image(stage_env, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_MEDIA_DIR", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "1000")
    # Eight pictures, each with a size of its own, so a file tells which upload wrote it;
    # none wider than 600 px, so the largest thumbnail is the picture's own size.
    pictures = {(200 + 40 * index, 100 + 30 * index): png(200 + 40 * index, 100 + 30 * index) for index in range(8)}
    with STAGE.running() as url:
        # A fresh user per round: each round's first uploads also race to create the image's row.
        for user_id in range(1, 6):
            email = f"user{user_id}@example.com"
            assert httpx2.post(f"{url}/users", json={"email": email, "name": "Ada"}, headers=ACME).status_code == 201
            statuses = upload_all_at_once(url, user_id, list(pictures.values()))
            assert statuses == [202] * len(pictures), f"round {user_id}: {statuses}"
            image = settled(url, user_id)
            size = (image["width"], image["height"])
            assert size in pictures
            folder = tmp_path / "acme" / "users" / str(user_id)
            assert only_final_files(folder) == ["original", *(f"thumbnail-{size}.png" for size in SIZES)]
            # The original on disk is the upload the row describes, and so are its thumbnails.
            with Image.open(folder / "original") as original:
                assert original.size == size
            for thumbnail in SIZES:
                response = httpx2.get(f"{url}/users/{user_id}/profile-image/{thumbnail}", headers=ACME)
                assert Image.open(BytesIO(response.content)).size == expected_thumbnail(*size, thumbnail)


# --- A body larger than the limit is not even received -----------------------------------------------


class CountingApp:
    """Wraps an ASGI app and counts the request-body bytes it pulls from the server."""

    def __init__(self, asgi_app) -> None:
        self.app = asgi_app
        self.received = 0

    async def __call__(self, scope, receive, send) -> None:
        async def counted():
            message = await receive()
            self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
def spooling(monkeypatch) -> list[str]:
    """Records every temporary file opened meanwhile: where a multipart parser spools a file to disk."""
    opened: list[str] = []
    for module, name in [
        (tempfile, "SpooledTemporaryFile"),
        (tempfile, "TemporaryFile"),
        (tempfile, "NamedTemporaryFile"),
        (starlette.formparsers, "SpooledTemporaryFile"),
    ]:
        original = getattr(module, name)

        def recorded(*args, _original=original, _name=name, **kwargs):
            opened.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)
    return opened


LIMIT = 100_000


def multipart_stream(total: int, chunk: int = 64 * 1024):
    """A multipart body with one file part of `total` bytes, produced chunk by chunk (sent chunked)."""
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    for _ in range(total // chunk):
        yield b"\x89" * chunk
    yield b"\r\n--b--\r\n"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_over_the_limit_is_refused_as_it_arrives_and_never_spooled(
    stage_env, monkeypatch, tmp_path, spooling, chunked
):
    monkeypatch.setenv("WORKBOOK_MAX_UPLOAD_BYTES", str(LIMIT))
    monkeypatch.setenv("WORKBOOK_MEDIA_DIR", str(tmp_path))
    counting = CountingApp(app)
    total = 60 * 1024 * 1024
    body = multipart_stream(total) if chunked else b"".join(multipart_stream(total))
    with served_in_a_thread(counting) as url:
        assert httpx2.post(f"{url}/users", json=ADA, headers=ACME).status_code == 201
        counting.received = 0
        response = httpx2.post(
            f"{url}/users/1/profile-image",
            content=body,
            headers={**ACME, "Content-Type": "multipart/form-data; boundary=b"},
            timeout=60,
        )
    assert (response.status_code, response.json()) == (
        413,
        {"detail": f"The file is larger than the limit of {LIMIT:,} bytes"},
    )
    if chunked:
        # The server hands the app what each socket read returned, up to 256 KiB
        # (asyncio's read size): one such piece past the limit, of the 60 MB sent.
        assert counting.received <= LIMIT + FORM_OVERHEAD_BYTES + 256 * 1024, f"read {counting.received:,} bytes"
    else:
        assert counting.received == 0, "a declared Content-Length over the limit is refused before reading"
    assert spooling == [], "nothing of the upload may be written to a temporary file"
    assert list(tmp_path.rglob("*original*")) == []


def test_the_docs_still_show_the_upload_form(client):
    operation = client.get("/openapi.json").json()["paths"]["/users/{user_id}/profile-image"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert (form["required"], form["properties"]["file"]["format"]) == (["file"], "binary")


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc', "multipart/form-data; boundary=b", 400),
        (png(), "image/png", 422),
        (
            b'--b\r\nContent-Disposition: form-data; name="other"\r\n\r\nabc\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
            422,
        ),
    ],
    ids=["cut-off-multipart", "not-multipart", "no-file-field"],
)
def test_a_malformed_upload_is_a_clear_4xx(ada, media_files, content, content_type, status):
    response = ada.post("/users/1/profile-image", content=content, headers={**ACME, "Content-Type": content_type})
    assert response.status_code == status, response.text
    assert media_files() == []


def test_two_files_in_one_upload_are_refused(ada, media_files):
    files = [("file", ("a.png", png(), "image/png")), ("file", ("b.png", png(), "image/png"))]
    response = ada.post("/users/1/profile-image", files=files, headers=ACME)
    problem = {"type": "value_error", "loc": ["body", "file"], "msg": "Send one file, not several"}
    assert (response.status_code, response.json()) == (422, {"detail": [problem]})
    assert media_files() == []
