"""The rules for profile images: the file on disk and its row, kept in step.

Like UserService, nothing here knows about HTTP. The route checks the upload,
this service stores it, and the thumbnails are made later (thumbnails.py).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session
from structlog.typing import FilteringBoundLogger

from .media import ImageStore
from .models import ProfileImage, User
from .thumbnails import ImageInfo


class ProfileImageNotFound(LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"User {user_id} has no profile image")


class ThumbnailNotFound(LookupError):
    pass


class ProfileImageService:
    def __init__(self, session: Session, images: ImageStore, tenant_id: str, logger: FilteringBoundLogger) -> None:
        self.session = session
        self.images = images
        self.tenant_id = tenant_id
        self.logger = logger

    def replace(self, user: User, data: bytes, info: ImageInfo) -> ProfileImage:
        """Store `data` as the user's profile image (file and row), replacing any earlier one.

        The file is staged first and takes the original's place only once the row
        is committed: if the commit fails, the staged file goes and any earlier
        image (file, thumbnails and row) is left exactly as it was.

        Uploads for one user take turns from reading the row to promoting the
        file (the user's lock, media.py). Without it, two first uploads at once
        would both find no row and both insert one (the second fails on the
        unique user_id), and two replacements could commit in one order and
        promote their files in the other, leaving a row that describes the
        other upload's file.
        """
        staged = self.images.stage_original(self.tenant_id, user.id, data)
        try:
            with self.images.locked(self.tenant_id, user.id):
                image = self.find(user.id) or ProfileImage(user_id=user.id)
                image.format, image.width, image.height = info.format, info.width, info.height
                image.size_bytes = len(data)
                self.session.add(image)
                # Committed before the response, as every write is (see services.py).
                self.session.commit()
                self.images.promote(self.tenant_id, user.id, staged)
        except Exception:
            staged.unlink(missing_ok=True)
            raise
        self.logger.info("profile_image.stored", user_id=user.id, format=info.format, bytes=len(data))
        return image

    def find(self, user_id: int) -> ProfileImage | None:
        return self.session.scalar(select(ProfileImage).where(ProfileImage.user_id == user_id))

    def get(self, user_id: int) -> ProfileImage:
        image = self.find(user_id)
        if image is None:
            raise ProfileImageNotFound(user_id)
        return image

    def thumbnail_sizes(self, user_id: int) -> list[int]:
        """The thumbnails made so far: the background task may still be working on the rest."""
        return self.images.thumbnail_sizes(self.tenant_id, user_id)
