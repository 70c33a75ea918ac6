"""The one error type for broken domain rules.

Services raise it; the API maps it to `{"error": {"code", "message"}}` with its status, the
room socket to an `error` frame, pages to a message on the form.
"""

import json

from django.conf import settings


def error_body(code: str, message: str, **extra) -> dict:
    """The JSON error every answer carries: `{"error": {"code", "message"}}`."""
    return {"error": {"code": code, "message": message, **extra}}


def too_large_body() -> bytes:
    """The JSON error of a request body over REQUEST_MAX_BYTES, as the web server
    (deploy.server) and nginx in front of it (deploy.nginx) both answer it."""
    limit = settings.REQUEST_MAX_BYTES
    message = f"The request is larger than the limit of {limit // 1024} KB."
    return json.dumps(error_body("too_large", message)).encode()


class ApplicationError(Exception):
    """A rule said no. `message` is a sentence the user can act on. The status is 422 unless
    said otherwise: the request was well formed (the API answers 400 only for a request
    that breaks its published schema), but what it asks for is refused."""

    def __init__(self, message: str, *, code: str = "invalid", status: int = 422):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    @classmethod
    def not_found(cls, message: str) -> "ApplicationError":
        return cls(message, code="not_found", status=404)

    @classmethod
    def forbidden(cls, message: str) -> "ApplicationError":
        return cls(message, code="forbidden", status=403)

    @classmethod
    def conflict(cls, message: str) -> "ApplicationError":
        return cls(message, code="conflict", status=409)
