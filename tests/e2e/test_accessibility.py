"""axe-core (vendored: tests/support/axe/, v4.14.1, MPL-2.0) on the site's pages, signed in and
out, at desktop and phone widths: no serious or critical violation."""

from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from follows.models import ClubMembership
from rooms.services.lifecycle import room_create
from tests.factories import ClubFactory, MembershipFactory, UserFactory, follower_of
from tests.support.pages import open_room

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

AXE = (Path(__file__).resolve().parent.parent / "support" / "axe" / "axe.min.js").read_text()
SIZES = {"desktop": (1100, 900), "phone": (390, 800)}
SERIOUS = ("serious", "critical")


@database_sync_to_async
def _site():
    host = UserFactory(username="hana", display_name="Hana Host", bio="Hosts the night show.")
    ann = follower_of(host, username="ann", display_name="Ann Listener")
    club = ClubFactory(name="Night Owls", slug="night-owls")
    MembershipFactory(club=club, user=host, role=ClubMembership.Role.ADMIN)
    live = room_create(host=host, title="Town hall", club=club)
    room_create(
        host=host, title="Tomorrow's talk", scheduled_for=timezone.now() + timedelta(days=1)
    )
    return host, ann, club, live


async def _violations(page) -> list[str]:
    await page.add_script_tag(content=AXE)
    result = await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{found['id']} ({found['impact']}): {node['target']}"
        for found in result["violations"]
        if found["impact"] in SERIOUS
        for node in found["nodes"]
    ]


def _none_found(found: dict[str, list[str]]) -> None:
    said = [
        f"{path}: {violation}" for path, violations in found.items() for violation in violations
    ]
    assert not said, "\n".join(said)


@pytest.mark.parametrize("size", SIZES)
async def test_signed_in_pages_have_no_serious_violations(server, signed_in, size):
    host, ann, club, live = await _site()
    width, height = SIZES[size]
    page = await signed_in(ann, width=width, height=height)
    found = {}
    for path in [
        "/",
        "/clubs/",
        f"/clubs/{club.slug}/",
        "/search/?q=night",
        "/u/hana/",
        "/notifications/",
        "/notifications/settings/",
        "/rooms/new/",
        "/accounts/profile/edit/",
    ]:
        await page.goto(f"{server.url}{path}")
        found[path] = await _violations(page)
    # A live room, with the host on stage and the reader listening.
    await open_room(await signed_in(host, width=width, height=height), server.url, live)
    await open_room(page, server.url, live)
    await page.wait_for_selector(f".tile[data-user-id='{host.pk}']")
    found["the room"] = await _violations(page)
    _none_found(found)


@pytest.mark.parametrize("size", SIZES)
async def test_signed_out_pages_have_no_serious_violations(server, browser, size):
    _, _, club, live = await _site()
    width, height = SIZES[size]
    context = await browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=True
    )
    page = await context.new_page()
    found = {}
    for path in [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/clubs/",
        f"/clubs/{club.slug}/",
        "/u/hana/",
        f"/rooms/{live.pk}/",
    ]:
        await page.goto(f"{server.url}{path}")
        found[path] = await _violations(page)
    await context.close()
    _none_found(found)
