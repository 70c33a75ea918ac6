import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def _api_paths():
    """Every route under /api/ except the schema and docs themselves, in OpenAPI form."""
    paths = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                paths.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "/")
    api = [re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", p) for p in paths if p.startswith("/api/")]
    return [p for p in api if p not in ("/api/schema/", "/api/docs/")]


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
