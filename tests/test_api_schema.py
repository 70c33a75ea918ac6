import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.support.helpers import openapi_schema

pytestmark = pytest.mark.django_db


def _api_paths():
    """Every route under /api/ except the schema and docs themselves and the catch-all that
    answers unknown addresses, in OpenAPI form."""
    paths = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                paths.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "/")
    api = [re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", p) for p in paths if p.startswith("/api/")]
    return [p for p in api if p not in ("/api/schema/", "/api/docs/", "/api/")]


def test_schema_is_openapi_3_and_covers_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == set(_api_paths())


def test_docs_page_loads_its_assets_from_this_server(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "cdn" not in html.lower()


def test_every_operation_documents_its_errors_in_the_error_format():
    error = {"$ref": "#/components/schemas/Error"}
    # Open to people who are signed out: no sign-in to refuse.
    anonymous = {
        ("/api/auth/signup/", "post"),
        ("/api/auth/token/", "post"),
        ("/api/rooms/{room_id}/replay/", "get"),
        ("/api/rooms/{room_id}/transcript/", "get"),
    }
    for path, operations in openapi_schema()["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            statuses = {int(status) for status in responses}
            expected = {400} if (path, method) in anonymous else {400, 401, 403}
            if "{" in path:
                expected.add(404)
            if "requestBody" in operation:
                expected |= {413, 415}
            assert expected <= statuses, (method, path, sorted(statuses))
            for status in (s for s in statuses if s >= 300):
                content = responses[str(status)]["content"]["application/json"]
                assert content["schema"] == error, (method, path, status)


def test_every_list_documents_its_page():
    page = {"count", "next", "previous", "results"}
    schema = openapi_schema()
    lists = 0
    for path, operations in schema["paths"].items():
        ok = operations.get("get", {}).get("responses", {}).get("200", {})
        body = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if body.get("type") == "array":
            raise AssertionError(f"{path} is documented as a bare array")
        name = body.get("$ref", "").rpartition("/")[2]
        if name.startswith("Paginated"):
            lists += 1
            assert set(schema["components"]["schemas"][name]["properties"]) == page
            names = {p["name"] for p in operations["get"]["parameters"]}
            assert {"page", "page_size"} <= names, path
    assert lists == 9


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["page_size=null", "page_size=true", "page_size=0", "page_size=201", "page_size=2&page_size=3"],
)
def test_a_page_size_the_schema_forbids_is_refused_not_ignored(authed_client, query):
    response = authed_client.get(f"/api/clubs/?{query}")
    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_a_page_size_within_bounds_is_taken(authed_client):
    assert authed_client.get("/api/clubs/?page_size=200").status_code == 200
    parameters = openapi_schema()["paths"]["/api/clubs/"]["get"]["parameters"]
    [size] = [p for p in parameters if p["name"] == "page_size"]
    assert (size["schema"]["minimum"], size["schema"]["maximum"]) == (1, 200)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/api/clubs/", {"name": "Owls", "description": 0}, ("description", "string")),
        ("/api/notifications/read/", {"all": 1}, ("all", "true or false")),
        ("/api/notifications/read/", {"ids": ["7"]}, ("ids", "whole number")),
        ("/api/rooms/", {"title": "Owls", "topics": "music"}, ("topics", "list")),
    ],
)
def test_a_json_type_the_schema_forbids_is_refused_not_converted(
    authed_client, path, body, problem
):
    """DRF itself reads 0 as "0", 1 as true and "7" as 7."""
    field, problem = problem
    response = authed_client.post(path, body, format="json")
    assert response.status_code == 400
    assert problem in response.json()["error"]["fields"][field][0]


@pytest.mark.django_db
def test_an_upload_form_with_no_field_is_refused(authed_client):
    response = authed_client.generic(
        "PATCH", "/api/me/", b"--b--\r\n", content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 422
    assert "no field" in response.json()["error"]["message"]
