"""Following someone from their menu in the room."""

import pytest
from channels.db import database_sync_to_async

from follows.models import Follow
from rooms.services.lifecycle import room_create
from tests.factories import BlockFactory, FollowFactory, UserFactory
from tests.support.pages import announced, join

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def cast():
    host = UserFactory(username="hana", display_name="Hana Host")
    ann = UserFactory(username="ann", display_name="Ann Listener")
    bo = UserFactory(username="bo", display_name="Bo Listener")
    FollowFactory(follower=ann, followee=bo)
    return room_create(host=host, title="Town hall"), host, ann, bo


@database_sync_to_async
def _follows(follower, followee) -> bool:
    return Follow.objects.filter(follower=follower, followee=followee).exists()


async def _menu_item(page, user, name):
    """Opens `user`'s menu and waits for the item called `name` to be usable."""
    await page.click(f".tile[data-user-id='{user.pk}'] summary")
    button = page.get_by_role("button", name=name, exact=True)
    await button.wait_for()
    await page.wait_for_function(
        "(name) => [...document.querySelectorAll('.tile__panel button')]"
        ".some((b) => b.textContent === name && !b.disabled)",
        arg=name,
    )
    return button


async def test_a_listener_follows_and_unfollows_from_the_room(server, signed_in, cast):
    room, host, ann, bo = cast
    await join(signed_in, server, room, host)
    await join(signed_in, server, room, bo)
    page = await join(signed_in, server, room, ann)
    await page.wait_for_selector(f".tile[data-user-id='{bo.pk}']")

    # Whom she follows already shows as such.
    await (await _menu_item(page, bo, "Unfollow Bo Listener")).click()
    await announced(page, "You unfollowed Bo Listener.")
    assert not await _follows(ann, bo)

    await (await _menu_item(page, host, "Follow Hana Host")).click()
    await announced(page, "You follow Hana Host.")
    assert await _follows(ann, host)
    # Opened again, the menu says what is true now.
    await _menu_item(page, host, "Unfollow Hana Host")


async def test_no_follow_across_a_block(server, signed_in, cast):
    room, host, ann, bo = cast
    await database_sync_to_async(BlockFactory)(blocker=bo, blocked=ann)
    await join(signed_in, server, room, host)
    await join(signed_in, server, room, bo)
    page = await join(signed_in, server, room, ann)
    await page.wait_for_selector(f".tile[data-user-id='{bo.pk}']")
    await _menu_item(page, bo, "Report Bo Listener")
    await page.wait_for_function(
        "() => ![...document.querySelectorAll('.tile__panel button')]"
        ".some((b) => b.textContent.includes('ollow'))"
    )
