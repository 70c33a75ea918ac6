"""Error pages: JSON under /api/, HTML elsewhere."""

from django.shortcuts import render

from core.api import error_json_response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None, message="This request is malformed."):
    if _wants_json(request):
        return error_json_response("bad_request", message, 400)
    return render(request, "400.html", {"message": message}, status=400)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return api_not_found(request)
    return render(request, "404.html", status=404)


def api_not_found(request):
    return error_json_response("not_found", "There is nothing at this address.", 404)


def server_error(request):
    if _wants_json(request):
        return error_json_response("server_error", "Something broke on our side; try again.", 500)
    return render(request, "500.html", status=500)


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return error_json_response(
            "csrf_failed", "The CSRF token is missing or wrong; reload the page and retry.", 403
        )
    return render(request, "403_csrf.html", status=403)
