"""Where uploaded images live on disk: one folder per tenant, one per user inside it.

    <media root>/acme/users/7/original
    <media root>/acme/users/7/thumbnail-150.png

Every path is built from a registered tenant id and an integer user id, never from
anything else the client sent (not the upload's filename above all: "../../x"
is a valid filename). Files are written under a temporary name and renamed into
place, so a reader sees a whole file or none: a thumbnail half written when the
process died never shows up as made.

Two uploads for one user can arrive at once, and a thumbnail job can run while a
new original replaces the old. `locked` makes each of them take its turn, per
user, across threads and worker processes (an flock on a file in the user's
folder: POSIX, like the rest of the workbook's tooling).
"""

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from .tenancy import is_valid_tenant_id

THUMBNAIL_PREFIX = "thumbnail-"
LOCKS_DIR = ".locks"


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def user_dir(self, tenant_id: str, user_id: int) -> Path:
        # Tenant ids come from the registry; checking again costs nothing and keeps
        # a mistake elsewhere from ever turning into a path outside the root.
        if not is_valid_tenant_id(tenant_id):
            raise ValueError(f"{tenant_id!r} is not a valid tenant id")
        return self.root / tenant_id / "users" / str(int(user_id))

    def original(self, tenant_id: str, user_id: int) -> Path:
        return self.user_dir(tenant_id, user_id) / "original"

    def thumbnail(self, tenant_id: str, user_id: int, size: int) -> Path:
        return self.user_dir(tenant_id, user_id) / f"{THUMBNAIL_PREFIX}{int(size)}.png"

    @contextmanager
    def locked(self, tenant_id: str, user_id: int) -> Iterator[None]:
        """Hold the user's lock: one upload or thumbnail job at a time touches the user's files.

        Lock files live apart, under <media root>/.locks, and stay: `remove` deletes
        the user's folder, and a lock file deleted while held would let the next
        comer lock a new file and walk in. The kernel releases the lock when the
        file is closed, even if the process dies holding it.
        """
        self.user_dir(tenant_id, user_id)  # checks the tenant id, as for every path
        path = self.root / LOCKS_DIR / tenant_id / f"{int(user_id)}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # blocks until the holder lets go
            yield

    def stage_original(self, tenant_id: str, user_id: int, data: bytes) -> Path:
        """Write an upload beside the current original, without touching it (see `promote`).

        Each upload gets a staged file of its own: with one shared name, two
        uploads at once would overwrite, or promote, each other's file.
        """
        folder = self.user_dir(tenant_id, user_id)
        folder.mkdir(parents=True, exist_ok=True)
        handle, staged = tempfile.mkstemp(dir=folder, prefix=".original.", suffix=".staged")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise
        return Path(staged)

    def promote(self, tenant_id: str, user_id: int, staged: Path) -> Path:
        """Make a staged upload the user's original; the old thumbnails go, they show the old image."""
        for old in self.user_dir(tenant_id, user_id).glob(f"{THUMBNAIL_PREFIX}*.png"):
            old.unlink()
        target = self.original(tenant_id, user_id)
        os.replace(staged, target)
        return target

    def save_thumbnail(self, tenant_id: str, user_id: int, size: int, image: Image.Image) -> Path:
        target = self.thumbnail(tenant_id, user_id, size)
        self._replace(target, lambda file: image.save(file, format="PNG"))
        return target

    def thumbnail_sizes(self, tenant_id: str, user_id: int) -> list[int]:
        """The sizes whose thumbnail exists so far, smallest first."""
        folder = self.user_dir(tenant_id, user_id)
        return sorted(int(path.stem.removeprefix(THUMBNAIL_PREFIX)) for path in folder.glob(f"{THUMBNAIL_PREFIX}*.png"))

    def remove(self, tenant_id: str, user_id: int) -> None:
        """Delete the user's original and thumbnails, if there are any."""
        shutil.rmtree(self.user_dir(tenant_id, user_id), ignore_errors=True)

    def _replace(self, target: Path, write) -> None:
        # Write beside the target (same file system), then rename: os.replace is atomic.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                write(file)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
