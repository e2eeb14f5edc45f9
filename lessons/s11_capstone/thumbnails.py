"""Reading uploaded images and making thumbnails from them, with Pillow."""

import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import structlog
from PIL import Image, ImageOps, UnidentifiedImageError

from .media import ImageStore

# The formats a browser shows, recognised by their content, not by a filename or a
# Content-Type header: the client chooses both.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
# What an image may DECLARE (width x height): a 48-megapixel phone photo fits.
MAX_PIXELS = 50_000_000
# What an image may take once DECODED, which is what the memory follows: a small
# file can declare huge dimensions (a "decompression bomb": a 4.5 KB PNG of
# 6000 x 6000 pixels decodes to 144 MB, and resizing copies it again). A JPEG is
# decoded at 1/2, 1/4 or 1/8 scale when a thumbnail needs no more (see `decode`),
# so a 48 MP phone photo stays under this; PNG, GIF and WebP always decode whole,
# so for them this is the real bound: 4000 x 3000, or a 4K screenshot.
MAX_DECODED_PIXELS = 12_000_000
# The most memory the thumbnail job takes for the worst image those bounds allow,
# measured by the tests (test_hostile_uploads.py): about 100 MB for an RGBA PNG,
# 110 to 125 MB for a palette or 16-bit one, and 200 MB for an RGBA WebP, which
# Pillow decodes through two more full-size buffers. Size the workers' memory,
# and the thread pool that runs these jobs, with it.
MEMORY_BOUND_BYTES = 240_000_000


UNREADABLE = "The file is not an image this shop can read (PNG, JPEG, GIF or WebP)"


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def decode(source: BinaryIO | Path, longest_side: int) -> tuple[Image.Image, ImageInfo]:
    """Decode every pixel of an image, with no more detail than a `longest_side` thumbnail needs.

    Returns the decoded image (the caller closes it) and what the file holds,
    at its full size. Raises NotAnImage for anything that is not a whole,
    acceptable image. The bounds are checked on the header, before a single
    pixel is decoded, so a decompression bomb costs nothing.
    """
    try:
        image = Image.open(source)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage(UNREADABLE) from error
    try:
        if image.format not in ACCEPTED_FORMATS:
            raise NotAnImage(f"{image.format} images are not accepted; send PNG, JPEG, GIF or WebP")
        if image.width * image.height > MAX_PIXELS:
            raise NotAnImage(f"The image has more than {MAX_PIXELS:,} pixels")
        info = ImageInfo(image.format, image.width, image.height)
        # draft() lets a JPEG decode at 1/2, 1/4 or 1/8 scale (the DCT makes that
        # almost free), keeping at least `longest_side` on the longer side; other
        # formats ignore it. It changes image.size to what load() will produce.
        scale = longest_side / max(image.size)
        image.draft(None, (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
        if image.width * image.height > MAX_DECODED_PIXELS:
            raise NotAnImage(f"The image has more than {MAX_DECODED_PIXELS:,} pixels to decode; send a smaller one")
        # Every pixel, now: a truncated JPEG or a PNG with corrupt pixel data
        # passes every check on the header and fails only here.
        image.load()
    except NotAnImage:
        image.close()
        raise
    except (OSError, SyntaxError, ValueError, zlib.error) as error:
        image.close()
        raise NotAnImage(UNREADABLE) from error
    return image, info


def inspect_image(data: bytes, longest_side: int) -> ImageInfo:
    """What the bytes are, decoded whole by Pillow; raises NotAnImage for anything it cannot accept.

    Decoding every pixel costs time and memory in the request, but it is the only
    way to know the thumbnail task will succeed: answering 202 for a file that
    cannot be decoded would leave an original that never gets thumbnails.
    `longest_side` is the largest thumbnail's: decoded the way the task decodes it,
    the image passes here exactly when it will pass there.
    """
    image, info = decode(BytesIO(data), longest_side)
    image.close()
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
    largest, *smaller = sorted(sizes, reverse=True)
    # The user's lock (media.py): a new upload cannot replace the original (and
    # delete its thumbnails) halfway through, leaving thumbnails of the old image.
    with images.locked(tenant_id, user_id):
        original, _ = decode(images.original(tenant_id, user_id), largest)
        with original:
            thumbnail = shrink(original, largest)
        # Phone photos are often stored sideways with an EXIF note saying so: apply it
        # (to the small image: turning it is the same as turning the original, and cheaper).
        ImageOps.exif_transpose(thumbnail, in_place=True)
        images.save_thumbnail(tenant_id, user_id, largest, thumbnail)
        for size in smaller:
            # Each smaller size comes from the largest thumbnail, not from the original again.
            smaller_one = thumbnail.copy()
            smaller_one.thumbnail((size, size), Image.Resampling.LANCZOS)
            images.save_thumbnail(tenant_id, user_id, size, smaller_one)
    logger.info("thumbnails.made", sizes=sorted(sizes))


def shrink(image: Image.Image, longest_side: int) -> Image.Image:
    """A new image whose longest side is at most `longest_side`, the aspect ratio kept; never enlarged.

    The order keeps the memory low: a palette image becomes full colour (a
    palette cannot be resized smoothly), then a whole-factor reduce() cuts it to
    about twice the target (an RGBA image is premultiplied first: one more
    full-size copy, which the measured bound includes), and only that smaller
    image gets the careful LANCZOS resize.
    """
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")  # palette, CMYK, 16-bit grey...: resize in full colour
    factor = max(image.size) // (2 * longest_side)
    smaller = image.reduce(factor) if factor >= 2 else image.copy()
    # thumbnail() resizes in place, and never enlarges: a smaller image keeps its own size.
    smaller.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    return smaller
