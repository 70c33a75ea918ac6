"""A shared room link opened by someone signed out: the room as a visitor sees it, then
sign-up, and straight back into the room, listening."""

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from rooms.models import Room, RoomMember
from rooms.services.lifecycle import room_create
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import PASSWORD, UserFactory
from tests.support.helpers import signs_in_on_the_server
from tests.support.pages import join

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def rooms():
    host = UserFactory(username="hana", display_name="Hana Host")
    signs_in_on_the_server(host)
    public = room_create(host=host, title="Town hall", description="Bring questions.")
    private = room_create(host=host, title="Board meeting", visibility=Room.Visibility.CLOSED)
    return host, public, private


async def _visitor(browser, size="desktop", *, bypass_csp=True):
    """A page of someone signed out. Waiting on the page's state evaluates script, which
    the Content-Security-Policy forbids; pages that are only looked at keep it."""
    width, height = SIZES[size]
    context = await browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=bypass_csp
    )
    return await context.new_page()


async def test_a_visitor_opens_a_shared_room_signs_up_and_lands_in_it(
    server, browser, signed_in, rooms
):
    host, public, _ = rooms
    await join(signed_in, server, public, host)
    page = await _visitor(browser)
    await page.goto(f"{server.url}/rooms/{public.pk}/")
    assert await page.inner_text("h1") == "Town hall"
    await page.wait_for_selector("[data-visitor-stage] >> text=Hana Host")

    await page.get_by_role("link", name="Sign up").last.click()
    await page.fill("input[name=username]", "newcomer")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation(url=f"{server.url}/rooms/{public.pk}/"):
        await page.click("main form [type=submit]")
    # In the room, as a listener whom the host's page sees arrive.
    await page.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")
    newcomer = await database_sync_to_async(User.objects.get)(username="newcomer")
    await page.wait_for_selector(f".tile[data-user-id='{newcomer.pk}']")
    member = await database_sync_to_async(
        RoomMember.objects.filter(room=public, user=newcomer).first
    )()
    assert member.role == RoomMember.Role.LISTENER


async def test_a_visitor_signs_in_from_a_private_rooms_page_and_lands_in_it(server, browser, rooms):
    _, _, private = rooms
    page = await _visitor(browser)
    await page.goto(f"{server.url}/rooms/{private.pk}/")
    assert await page.inner_text("h1") == "Sign in to see this room"
    assert "Board meeting" not in await page.content()
    await page.get_by_role("link", name="Sign in").last.click()
    await page.fill("input[name=username]", "hana")
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation(url=f"{server.url}/rooms/{private.pk}/"):
        await page.click("main form [type=submit]")
    await page.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")
    assert "Board meeting" in await page.inner_text("h1")


@pytest.mark.parametrize("size", SIZES)
async def test_the_visitors_pages_fit_and_are_saved_as_screenshots(
    server, browser, signed_in, rooms, size
):
    host, public, private = rooms
    await join(signed_in, server, public, host)
    page = await _visitor(browser, size, bypass_csp=False)
    for name, path in (
        ("room", f"/rooms/{public.pk}/"),
        ("private-room", f"/rooms/{private.pk}/"),
        ("profile", "/u/hana/"),
    ):
        await page.goto(f"{server.url}{path}")
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"visitor-{name}-{size}.png", full_page=True)
