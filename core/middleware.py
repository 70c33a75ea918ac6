"""Checks of the raw request that every view relies on."""

from core.client_address import is_trusted_proxy
from core.error_views import bad_request

NUL = "\x00"


def _has_nul(request) -> bool:
    if NUL in request.path:
        return True
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
    )


def refuse_nul_characters(get_response):
    """A NUL character in the path or the query string is refused with 400: Postgres cannot
    store or compare text with one, so a lookup by it would fail deep inside a view. Form and
    API fields refuse it themselves (Django's and DRF's validators)."""

    def middleware(request):
        if _has_nul(request):
            return bad_request(request, message="The address contains a NUL character.")
        return get_response(request)

    return middleware


def forwarded_proto_from_trusted_proxies(get_response):
    """X-Forwarded-Proto says whether the client's connection was TLS (SECURE_PROXY_SSL_HEADER):
    only a proxy of TRUSTED_PROXIES may say so. A client that sent it straight to a web
    process got HSTS and "secure" treatment over plain HTTP."""

    def middleware(request):
        if "HTTP_X_FORWARDED_PROTO" in request.META and not is_trusted_proxy(
            request.META.get("REMOTE_ADDR", "")
        ):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return get_response(request)

    return middleware
