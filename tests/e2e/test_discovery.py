"""Discovery in the browser: the header's search as you type, by keyboard; the hallway's
topic filter without script; and a room started elsewhere appearing under "Live now"
without a reload."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms.models import Topic
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@database_sync_to_async
def _world():
    viewer = UserFactory(username="viewer", display_name="Vera Viewer")
    host = UserFactory(username="jasper", display_name="Jasper Host")
    # Transactional tests flush the migration's topics; these are made again.
    music = Topic.objects.get_or_create(slug="music", defaults={"name": "Music"})[0]
    sports = Topic.objects.get_or_create(slug="sports", defaults={"name": "Sports"})[0]
    later = timezone.now() + timedelta(days=1)
    jazz = room_create(host=host, title="Jazz after dark", topics=[music], scheduled_for=later)
    room_create(host=host, title="Derby day", topics=[sports], scheduled_for=later)
    return viewer, jazz


async def test_typing_in_the_header_search_and_choosing_a_result_by_keyboard(server, signed_in):
    viewer, jazz = await _world()
    page = await signed_in(viewer)
    await page.goto(f"{server.url}/clubs/")
    field = page.get_by_role("combobox", name="Search people, clubs and rooms")
    await field.click()
    await field.type("jaz")
    listbox = page.get_by_role("listbox", name="Search results")
    await listbox.get_by_role("option", name="Jazz after dark").wait_for()
    assert await field.get_attribute("aria-expanded") == "true"

    await field.press("Escape")
    assert await field.get_attribute("aria-expanded") == "false"
    assert await listbox.is_hidden()

    await field.type("z")
    option = listbox.get_by_role("option", name="Jazz after dark")
    await option.wait_for()
    await field.press("ArrowDown")
    active = await field.get_attribute("aria-activedescendant")
    assert active == await option.get_attribute("id")
    assert await option.get_attribute("aria-selected") == "true"
    async with page.expect_navigation():
        await field.press("Enter")
    assert page.url == f"{server.url}/rooms/{jazz.pk}/"
    await page.get_by_role("heading", name="Jazz after dark").wait_for()


async def test_the_header_search_submits_to_the_results_page(server, signed_in):
    viewer, _ = await _world()
    page = await signed_in(viewer)
    await page.goto(f"{server.url}/")
    field = page.get_by_role("combobox", name="Search people, clubs and rooms")
    await field.fill("jasper")
    async with page.expect_navigation():
        await field.press("Enter")
    assert page.url.endswith("/search/?q=jasper")
    await page.get_by_role("heading", name="People").wait_for()
    await page.get_by_text("@jasper").wait_for()


async def test_the_hallway_filters_by_topic(server, signed_in):
    viewer, _ = await _world()
    page = await signed_in(viewer)
    await page.goto(f"{server.url}/")
    await page.get_by_role("link", name="Derby day").wait_for()
    filters = page.get_by_role("navigation", name="Filter rooms")
    async with page.expect_navigation():
        await filters.get_by_role("link", name="Music").click()
    assert page.url.endswith("/?topic=music")
    await page.get_by_role("link", name="Jazz after dark").wait_for()
    assert await page.get_by_role("link", name="Derby day").count() == 0
    assert await filters.get_by_role("link", name="Music").get_attribute("aria-current") == "true"


async def test_a_room_started_elsewhere_appears_under_live_now_without_a_reload(server, signed_in):
    viewer, _ = await _world()
    stranger = await database_sync_to_async(UserFactory)(display_name="Someone Else")
    hallway = await signed_in(viewer)
    await hallway.goto(f"{server.url}/")
    await hallway.get_by_role("link", name="Derby day").wait_for()
    assert await hallway.get_by_role("heading", name="Live now").count() == 0

    host = await signed_in(stranger)
    await host.goto(f"{server.url}/rooms/new/")
    await host.fill("input[name=title]", "Open mic right now")
    async with host.expect_navigation():
        await host.click("main form [type=submit]")

    # The page polls every 20 s; the push brings the card well before that.
    await hallway.get_by_role("heading", name="Live now").wait_for(timeout=10_000)
    await hallway.get_by_role("link", name="Open mic right now").wait_for()


@pytest.mark.parametrize("width", [390, 600])
async def test_on_a_phone_the_header_is_one_row_with_search_behind_its_icon(
    server, signed_in, width
):
    viewer, _ = await _world()
    page = await signed_in(viewer, width=width, height=800)
    await page.goto(f"{server.url}/clubs/")
    # One row: every part of the header is centred on one line, and nothing is wider than
    # the screen.
    middles = await page.evaluate(
        """() => [...document.querySelectorAll(
            '.brand, .site-nav, .header-search-link, .header-start, .menu summary')]
            .filter((node) => node.offsetParent !== null)
            .map((node) => { const box = node.getBoundingClientRect(); return box.top + box.height / 2; })"""
    )
    assert len(middles) == 5
    assert max(middles) - min(middles) < 12, middles
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    assert not await page.get_by_role(
        "combobox", name="Search people, clubs and rooms"
    ).is_visible()
    await page.get_by_role("link", name="Search people, clubs and rooms").click()
    await page.wait_for_url(f"{server.url}/search/")
    assert await page.get_by_role("link", name="Start a room").is_visible()
