"""Sending a replay's audio once Django has checked who asks.

Behind the production layout's nginx (REPLAY_FILES_BY_PROXY), Django answers with
`X-Accel-Redirect` and nginx sends the file from an internal location, Range requests
included. Otherwise (development, `make run`) Django sends it, with single-range requests
answered 206 so that players can seek; the files live outside MEDIA_ROOT, which is public.
"""

import re
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse

# An internal location of nginx's (deploy/nginx.conf) that maps to the replays' storage.
PROXY_PREFIX = "/_replay-files/"
CONTENT_TYPES = {".ogg": "audio/ogg", ".m4a": "audio/mp4"}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes of a single-range header, or None for the whole file;
    raises ValueError when the range lies outside it."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole file is a valid answer
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise ValueError("unsatisfiable")
    return start, end


def replay_file_response(request, path: Path, name: str) -> HttpResponse:
    """The file at `path` (inside the replays' storage) for a person allowed to hear it."""
    content_type = CONTENT_TYPES[path.suffix]
    if settings.REPLAY_FILES_BY_PROXY:
        relative = path.relative_to(settings.REPLAYS_ROOT)
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = PROXY_PREFIX + quote(str(relative))
        return response
    size = path.stat().st_size
    try:
        byte_range = _byte_range(request.headers.get("Range", ""), size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle = path.open("rb")
    if byte_range is None:
        response = FileResponse(handle, content_type=content_type, filename=name)
    else:
        start, end = byte_range
        handle.seek(start)
        response = FileResponse(
            _limited(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    # Private rooms' replays: not for shared caches.
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _limited(handle, length: int, chunk: int = 64 * 1024):
    with handle:
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                return
            length -= len(data)
            yield data
