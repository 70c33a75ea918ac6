"""Content-Security-Policy: strict on every page, and no page needs anything inline."""

import base64
import hashlib
import re

import pytest
from django.conf import settings

from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.servers import ROOT

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": f"'self' {settings.TURBO_PROGRESS_BAR_STYLE}",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)


def _policy(response) -> dict:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.fixture
def host():
    return UserFactory(username="host")


@pytest.fixture
def live_room(host):
    return room_create(host=host, title="Late talk")


@pytest.fixture
def pages(live_room, host):
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    return {
        None: ["/", "/accounts/login/", "/accounts/signup/", "/clubs/", f"/u/{host.username}/"],
        host: [
            "/",
            "/rooms/new/",
            f"/rooms/{live_room.pk}/",
            f"/u/{host.username}/",
            "/accounts/profile/",
            "/accounts/password/",
            "/notifications/",
            "/notifications/settings/",
            "/clubs/",
            "/clubs/new/",
            "/api/docs/",
        ],
        staff: [
            "/admin/",
            "/admin/accounts/user/",
            f"/admin/accounts/user/{host.pk}/change/",
            "/admin/rooms/room/",
            f"/admin/rooms/room/{live_room.pk}/change/",
        ],
    }


def test_every_page_has_a_strict_policy_and_nothing_inline(client, pages):
    for user, addresses in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for address in addresses:
            response = client.get(address)
            assert response.status_code == 200, address
            policy = _policy(response)
            for directive, value in STRICT.items():
                assert policy[directive] == value, (address, directive)
            assert "unsafe" not in response.headers["Content-Security-Policy"]
            html = response.content.decode()
            assert not INLINE_SCRIPT.findall(html), address
            assert not INLINE_STYLE.findall(html), address


def test_api_answers_carry_the_policy_too(client, host):
    client.force_login(host)
    response = client.get("/api/me/")
    assert _policy(response)["default-src"] == "'self'"


def test_the_one_style_allowed_by_its_hash_is_turbos_progress_bar():
    """Turbo writes its progress bar's stylesheet into the page: the policy allows exactly
    that text of the vendored version, built as Turbo builds it (unindented)."""
    source = (ROOT / "static/vendor/turbo/turbo.es2017-esm.js").read_text()
    template = re.search(r"static get defaultCSS\(\) \{\s+return unindent`(.*?)`", source, re.S)
    duration = int(re.search(r"static animationDuration = (\d+)", source).group(1))
    text = template.group(1).replace("${ProgressBar.animationDuration}", str(duration))
    text = text.replace("${ProgressBar.animationDuration / 2}", str(duration // 2))
    lines = text.removeprefix("\n").split("\n")
    indent = len(lines[0]) - len(lines[0].lstrip())
    css = "\n".join(line[indent:] for line in lines)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == settings.TURBO_PROGRESS_BAR_STYLE
