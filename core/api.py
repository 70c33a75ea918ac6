"""What every API view shares: the error format, pagination and throttles."""

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.http import JsonResponse
from rest_framework import exceptions, pagination, parsers, serializers, throttling
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.client_address import client_address
from core.errors import ApplicationError, error_body

# The largest id a database row can have (a 64-bit signed integer): a larger number in input
# would overflow SQLite's integers before it could match nothing.
DATABASE_ID_MAX = 2**63 - 1


class Unprocessable(exceptions.ValidationError):
    """A rule refuses input the schema allows (422), in the validation error's format; a
    plain ValidationError is input the schema forbids (400)."""

    status_code = 422


def error_json_response(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def first_message(detail) -> str:
    """The first error of a (possibly nested) DRF error structure, as one sentence."""
    if isinstance(detail, dict):
        for field, errors in detail.items():
            message = first_message(errors)
            if field in ("non_field_errors", "__all__", "detail"):
                return message
            return f"{field}: {message}"
        return "The request is not valid."
    if isinstance(detail, list | tuple):
        return first_message(detail[0]) if detail else "The request is not valid."
    return str(detail)


def exception_handler(exc, context):
    """Maps every API error to `{"error": {"code", "message"}}` with a fitting status."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        # A model's or a service's rule (a picture that is not one, a password too common):
        # the request was well formed.
        exc = Unprocessable(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", first_message(response.data), fields=response.data)
    else:
        code = exc.default_code if isinstance(exc, exceptions.APIException) else None
        if code is None:
            code = "not_found" if response.status_code == 404 else "permission_denied"
        response.data = error_body(code, first_message(response.data))
    return response


UPLOAD_PARSERS = [parsers.JSONParser, parsers.MultiPartParser]


class UploadField(serializers.FileField):
    """A file of a multipart form. Text where the file should be (the schema's `binary`
    string allows it) is taken as an upload of that text, which the service then refuses as
    it refuses any upload that is not a picture (422), rather than as a malformed form."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            return ContentFile(data.encode(), name="upload")
        return super().to_internal_value(data)


class FormBlanksRefused(serializers.Serializer):
    """A serializer that may read multipart form data (an upload): a present but empty value
    of a field that may not be blank is refused, as it is in JSON; DRF reads it from a form
    as "not given" and takes the rest. A form with no field at all (a body that is none) is
    refused too, by `valid_body` (422: DRF would turn it into a 400 here)."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            blank = {
                name: ["This field may not be blank."]
                for name, field in self.fields.items()
                if data.get(name) == ""
                and not getattr(field, "allow_blank", False)
                and not isinstance(field, serializers.FileField)
            }
            if blank:
                raise exceptions.ValidationError(blank)
        return super().to_internal_value(data)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# The JSON type each kind of field takes, as the schema states it (the first that matches).
_SCALARS: list[tuple[tuple[type, ...], Callable[[object], bool], str]] = [
    ((serializers.BooleanField,), lambda v: isinstance(v, bool), "Must be true or false."),
    ((serializers.IntegerField,), _is_whole, "Must be a whole number."),
    ((serializers.FloatField, serializers.DecimalField), _is_number, "Must be a number."),
    (
        (serializers.CharField, serializers.DateTimeField, serializers.DateField),
        lambda v: isinstance(v, str),
        "Must be a string.",
    ),
]


def _type_problem(field: serializers.Field, value) -> str | None:
    """What is wrong with a JSON value's type for this field, as the schema states the type;
    None when nothing is (null is the field's own question: allow_null)."""
    if value is None or field.read_only:
        return None
    for kinds, fits, problem in _SCALARS:
        if isinstance(field, kinds):
            return None if fits(value) else problem
    if isinstance(field, serializers.ChoiceField) and all(
        isinstance(c, str) for c in field.choices
    ):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField):
        return _list_problem(field, value)
    if isinstance(field, serializers.Serializer | serializers.DictField):
        return _object_problem(field, value)
    return None


def _list_problem(field: serializers.ListField, value) -> str | None:
    if not isinstance(value, list):
        return "Must be a list."
    problem = next(filter(None, (_type_problem(field.child, item) for item in value)), None)
    return f"Each item: {problem.lower()}" if problem else None


def _object_problem(field: serializers.Field, value) -> str | None:
    if not isinstance(value, dict):
        return "Must be an object."
    if not isinstance(field, serializers.Serializer):
        return None
    problems = _type_problems(field, value)
    return "; ".join(f"{name}: {text}" for name, text in problems.items()) or None


def _type_problems(serializer: serializers.Serializer, data: dict) -> dict[str, str]:
    return {
        name: problem
        for name, field in serializer.fields.items()
        if name in data and (problem := _type_problem(field, data[name]))
    }


def valid_body(serializer_class: type[serializers.Serializer], request, **kwargs):
    """The request's body through `serializer_class`, validated (a 400 otherwise; 422 for
    an upload form with no field), with its
    JSON types held to the schema's: DRF itself reads 0 as "0", "yes" as true and "12" as
    12, taking what the schema calls invalid."""
    serializer = serializer_class(data=request.data, **kwargs)
    empty_form = hasattr(request.data, "getlist") and not request.data
    if isinstance(serializer, FormBlanksRefused) and empty_form:
        raise Unprocessable(
            {
                api_settings.NON_FIELD_ERRORS_KEY: [
                    "The form has no field in it; to change nothing, send nothing."
                ]
            }
        )
    if isinstance(request.data, dict):
        problems = _type_problems(serializer, request.data)
        if problems:
            raise exceptions.ValidationError({name: [text] for name, text in problems.items()})
    serializer.is_valid(raise_exception=True)
    return serializer


def query_input(request) -> dict:
    """A request's query parameters as a serializer's input: a plain mapping, read as a JSON
    body is. Handed the QueryDict itself, DRF reads them as a submitted HTML form, where an
    empty value (`?topic=`) of an optional field means "not given", and accepts it, which
    the schema forbids."""
    return request.query_params.dict()


class Pagination(pagination.PageNumberPagination):
    """`?page=` from 1; a page past the last one is 404. `?page_size=` from 1 to 200: anything
    else is refused (400), not quietly replaced by the default, as the schema says."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        given = request.query_params.getlist(self.page_size_query_param)
        if not given:
            return self.page_size
        if len(given) > 1 or not given[0].isdigit() or not 1 <= int(given[0]) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        f"A whole number from 1 to {self.max_page_size}, given once."
                    ]
                }
            )
        return int(given[0])

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class AuthRateThrottle(throttling.SimpleRateThrottle):
    """Sign-in and sign-up attempts per client address, shared by the pages and the API."""

    scope = "auth"

    def get_ident(self, request):
        return client_address(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


TOO_MANY_ATTEMPTS = "Too many attempts from your address. Wait a minute and try again."


def auth_attempt_refused(request) -> bool:
    """Counts one sign-in, sign-up or reset attempt from a page (the API's views count theirs
    through `throttle_classes`); True past the shared budget."""
    return not AuthRateThrottle().allow_request(request, None)


class ReportRateThrottle(throttling.UserRateThrottle):
    """Reports per person, shared by the profile's report form and the API."""

    scope = "reports"


class SearchRateThrottle(throttling.UserRateThrottle):
    """Searches per person: the header's type-ahead asks once per pause in typing."""

    scope = "search"
