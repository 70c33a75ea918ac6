"""The one way an upload becomes a profile picture.

Each step is cheaper than the next and refuses before it: the byte size, then the dimensions
from the header (nothing decoded yet), then the pixels, re-encoded as a small square PNG. A
small compressed file can hold a picture that decodes to gigabytes; checking its dimensions
first keeps that from ever reaching memory.
"""

import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from accounts.models import validate_avatar_size

AVATAR_SIZE = 256
NOT_A_PICTURE = "Upload a picture (PNG, JPEG, GIF or WebP)."


def _open(upload) -> Image.Image:
    """Reads the header only. Pillow's own bomb warning is ours to decide: the dimension
    check below refuses well under it."""
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(upload)


def validate_avatar_dimensions(image: Image.Image) -> None:
    width, height = image.size
    limit = settings.AVATAR_MAX_PIXELS
    if width * height > limit:
        raise ValidationError(
            f"The picture is too big ({width} x {height} pixels); the limit is "
            f"{limit / 1_000_000:g} million pixels.",
            code="avatar_too_many_pixels",
        )


def avatar_from_upload(upload) -> ContentFile:
    """A square PNG of AVATAR_SIZE from an upload; ValidationError says why it was refused."""
    validate_avatar_size(upload)
    try:
        with _open(upload) as image:
            validate_avatar_dimensions(image)
            image.verify()
        with _open(upload) as original:
            # JPEG can decode at a fraction of its size; other formats ignore this.
            original.draft("RGB", (AVATAR_SIZE, AVATAR_SIZE))
            pixels = original.convert("RGBA")
        side = min(pixels.size)
        left, top = (pixels.width - side) // 2, (pixels.height - side) // 2
        square = pixels.crop((left, top, left + side, top + side))
        square = square.resize((AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValidationError(NOT_A_PICTURE, code="not_a_picture") from error
    return ContentFile(out.getvalue(), name="avatar.png")
