"""The bell, live: a followed person starts a room from the browser, the server hands the
fan-out to a real Celery worker, and the follower's open page shows it at once."""

import pytest

from tests.factories import FollowFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def maya_and_theo():
    maya = UserFactory(username="maya", display_name="Maya Okafor")
    theo = UserFactory(username="theo", display_name="Theo Lindqvist")
    FollowFactory(follower=theo, followee=maya)
    return maya, theo


async def test_a_follower_sees_room_started_live_and_joins(
    server, workers, signed_in, maya_and_theo
):
    maya, theo = maya_and_theo
    workers()
    follower = await signed_in(theo)
    await follower.goto(f"{server.url}/")
    await follower.wait_for_selector("[data-unread-count]", state="hidden")

    host = await signed_in(maya)
    await host.goto(f"{server.url}/rooms/new/")
    await host.fill("input[name=title]", "Late night product talk")
    async with host.expect_navigation():
        await host.click("main form [type=submit]")
    await host.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")

    # Without a reload: a toast and the unread badge.
    toast = follower.locator(".toast", has_text="Maya Okafor started")
    await toast.wait_for(timeout=30000)
    assert "Late night product talk" in await toast.inner_text()
    await follower.wait_for_selector("[data-unread-count]:visible")
    assert (await follower.inner_text("[data-unread-count]")).startswith("1")

    # "Join" takes the follower into the room.
    await toast.get_by_role("link", name="Join").click()
    await follower.wait_for_url(host.url)
    await follower.wait_for_function("window.roundtable && window.roundtable.state.seq !== null")
    await follower.wait_for_selector(f".tile[data-user-id='{maya.pk}']")
    await follower.wait_for_selector(f".tile[data-user-id='{theo.pk}']")
