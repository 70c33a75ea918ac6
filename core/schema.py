"""OpenAPI generation settings shared by every API view.

Every operation documents the errors it can answer, all in the one error format
(`{"error": {"code", "message"}}`, core/api.py): the ones that follow from how the view is
built are added here (bad input, no or a refused sign-in, a missing object in the address or
a page past the last, a body too large or of the wrong type, a throttle); the ones that follow from what the view does
(a 404 for a name in the body, a 409 for a state conflict) are named on the view with
`errors(...)`. A view that pages its list says so with `pagination_class`,
and its schema is then the page (`count`, `next`, `previous`, `results`).
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: "The request breaks this schema; for a field, `error.fields` names it and says why.",
    401: "Not signed in, or the token is unknown, revoked or expired.",
    403: "Signed in, but a rule does not let you do this (or a session's CSRF check failed).",
    404: "Something the request names does not exist, or is not visible to you.",
    409: "The request conflicts with the current state of what it names.",
    413: "The request body is larger than the server accepts (REQUEST_MAX_BYTES).",
    415: "The request body is not JSON, a form or multipart form data.",
    422: "The request is well formed, but a rule refuses it; `error.code` says which (and "
    "`error.fields`, for a field).",
    429: "Too many requests of this kind; try again later (Retry-After says when).",
    503: "Something the request needs is full or unreachable (the media server); try later.",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable code, e.g. `not_found`.")
    message = serializers.CharField(help_text="A sentence the person can act on.")
    fields = serializers.DictField(
        required=False,
        help_text="With code `invalid`: each field that is not valid and its errors.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Responses for `extend_schema(responses=...)`: the error format under these statuses."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


class AutoSchema(openapi.AutoSchema):
    """Names a view's nested serializers after the view (`SignupApi.InputSerializer` →
    SignupInput, `RoomDetailApi.UpdateSerializer` → RoomDetailUpdate) and adds the error responses that follow from how the view is built."""

    def get_serializer_name(self, serializer, direction):
        owner, _, inner = type(serializer).__qualname__.rpartition(".")
        if owner and inner.endswith("Serializer"):
            return owner.removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def _signs_in(self) -> bool:
        return not all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _pages(self) -> bool:
        return self.method == "GET" and getattr(self.view, "pagination_class", None) is not None

    def error_statuses(self) -> list[int]:
        # Any address can be refused (a NUL character) and any input can be invalid; any
        # request can meet a rule that refuses it.
        statuses = [400, 422]
        if self._signs_in():
            statuses += [401, 403]
        if "{" in self.path or self._pages():
            statuses.append(404)
        if self._has_body():
            statuses += [413, 415]
        if self.view.get_throttles():
            statuses.append(429)
        return statuses

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}
        responses = operation["responses"]
        for status in self.error_statuses():
            responses.setdefault(
                str(status),
                {
                    "content": dict.fromkeys(self.map_renderers("media_type"), error),
                    "description": ERROR_DESCRIPTIONS[status],
                },
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation
