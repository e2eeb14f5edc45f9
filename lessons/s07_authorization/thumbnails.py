"""Reading uploaded images and making thumbnails from them, with Pillow."""

from dataclasses import dataclass
from io import BytesIO

import structlog
from PIL import Image, ImageOps, UnidentifiedImageError

from .media import ImageStore

# The formats a browser shows, recognised by their content, not by a filename or a
# Content-Type header: the client chooses both.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
# Far more than any profile picture needs; a small file can declare huge dimensions
# (a "decompression bomb") and would take gigabytes to decode.
MAX_PIXELS = 40_000_000


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """What the bytes are, decoded by Pillow; raises NotAnImage for anything it cannot accept.

    `verify()` walks the file's structure (for PNG, every chunk's checksum) without
    decoding every pixel: cheap enough to do before answering. Decoding all pixels
    is the thumbnail task's job, after the response.
    """
    try:
        with Image.open(BytesIO(data)) as image:
            info = ImageInfo(image.format or "", image.width, image.height)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage("The file is not an image this shop can read (PNG, JPEG, GIF or WebP)") from error
    if info.format not in ACCEPTED_FORMATS:
        raise NotAnImage(f"{info.format} images are not accepted; send PNG, JPEG, GIF or WebP")
    if info.width * info.height > MAX_PIXELS:
        raise NotAnImage(f"The image has more than {MAX_PIXELS:,} pixels")
    return info


def make_thumbnails(images: ImageStore, tenant_id: str, user_id: int, sizes: list[int]) -> None:
    """Make one PNG thumbnail per size, its longest side `size` pixels, the aspect ratio kept.

    A plain `def` on purpose: decoding and resizing are CPU-bound and blocking.
    Starlette runs a synchronous background task in its thread pool, so the event
    loop keeps serving requests meanwhile; as an `async def` this would run ON the
    loop and stall every other request until the last thumbnail was written.
    (Pillow releases the GIL while it resizes, so the thread really runs alongside.)
    """
    logger = structlog.get_logger().bind(tenant=tenant_id, user_id=user_id)
    with Image.open(images.original(tenant_id, user_id)) as original:
        # Phone photos are often stored sideways with an EXIF note saying so: apply it.
        upright = ImageOps.exif_transpose(original)
        if upright.mode not in ("RGB", "RGBA", "L", "LA"):
            upright = upright.convert("RGBA")  # palette, CMYK...: resize in full colour
        for size in sorted(sizes):
            thumbnail = upright.copy()
            # thumbnail() keeps the aspect ratio and never enlarges: an image smaller
            # than `size` keeps its own size.
            thumbnail.thumbnail((size, size), Image.Resampling.LANCZOS)
            images.save_thumbnail(tenant_id, user_id, size, thumbnail)
    logger.info("thumbnails.made", sizes=sorted(sizes))
