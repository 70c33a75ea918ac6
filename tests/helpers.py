"""Small helpers shared by the tests."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image


def error_of(response) -> dict:
    """The `error` object of an API error response, after checking its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert body["error"]["message"], body
    return body["error"]


def image_upload(
    name="me.png", size=(640, 480), fmt="PNG", colour=(200, 80, 40)
) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as context:
        func()
    return len(context.captured_queries)
