"""The room page as people use it: moderators' menus, what screen readers hear, the
keyboard, a phone-sized window, and what a removed person sees."""

import pytest
from channels.db import database_sync_to_async

from rooms.models import RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import FollowFactory, UserFactory, follower_of
from tests.support.pages import announced, audio, hears, hears_silence, join, open_room

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def cast():
    host = UserFactory(username="hana", display_name="Hana Host")
    cory = follower_of(host, username="cory", display_name="Cory Cohost")
    ann = UserFactory(username="ann", display_name="Ann Listener")
    room = room_create(host=host, title="Town hall", co_hosts=[cory])
    return room, host, cory, ann


@database_sync_to_async
def _member(room, user):
    return RoomMember.objects.filter(room=room, user=user).first()


async def _menu_action(page, user, label):
    await page.click(f".tile[data-user-id='{user.pk}'] summary")
    await page.get_by_role("button", name=label, exact=True).click()


async def test_a_moderator_mutes_a_speaker_and_removes_a_listener(server, signed_in, cast):
    room, host, cory, ann = cast
    host_page = await join(signed_in, server, room, host)
    cory_page = await join(signed_in, server, room, cory, talk=True)
    listener = await join(signed_in, server, room, ann)
    await hears(listener, cory.pk)

    # Mute from the moderator's menu: Cory's page follows, and Ann hears silence.
    await _menu_action(host_page, cory, "Mute")
    await cory_page.wait_for_selector("[data-action=mute][aria-pressed=true]")
    await hears_silence(listener, cory.pk)
    mic = (await audio(cory_page))["mic"]
    assert [track["enabled"] for track in mic] == [False]
    await host_page.wait_for_selector(f".tile[data-user-id='{cory.pk}'] .tile__mute")

    # Remove Ann: her page says so, and nothing of the room keeps running in it.
    await _menu_action(host_page, ann, "Remove from room")
    await listener.wait_for_selector("text=You were removed from this room")
    state = await audio(listener)
    assert (state["peers"], state["players"]) == ({}, 0)
    assert await _member(room, ann) is None
    await host_page.wait_for_selector(f".tile[data-user-id='{ann.pk}']", state="detached")


async def test_stage_changes_are_announced_and_controls_work_from_the_keyboard(
    server, signed_in, cast
):
    room, host, _, ann = cast
    host_page = await join(signed_in, server, room, host)
    listener = await join(signed_in, server, room, ann)

    # Ann raises her hand with the keyboard alone.
    await listener.focus("[data-action=hand]")
    await listener.keyboard.press("Enter")
    await listener.wait_for_selector("[data-action=hand][aria-pressed=true]")
    await announced(host_page, "Ann Listener raised a hand.")
    assert (await _member(room, ann)).hand_raised

    # The invitation takes the keyboard focus; Enter accepts it.
    await host_page.get_by_role("button", name="Invite Ann Listener to speak").press("Enter")
    await listener.wait_for_selector("[data-invite]:visible")
    assert await listener.evaluate("document.activeElement.dataset.action") == "accept"
    await listener.keyboard.press("Enter")
    await announced(listener, "You are on stage and muted.")
    await announced(host_page, "Ann Listener is now a speaker.")
    assert (await _member(room, ann)).role == RoomMember.Role.SPEAKER


async def test_the_room_fits_a_phone(server, signed_in, cast):
    room, host, _, ann = cast
    await join(signed_in, server, room, host)
    phone = await join(signed_in, server, room, ann, width=375, height=740)
    await phone.wait_for_selector(f".tile[data-user-id='{host.pk}']")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for action in ("leave", "hand"):
        box = await phone.locator(f"[data-action={action}]").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 375
        assert box["y"] + box["height"] <= 740


async def test_the_audience_count_counts_everyone_listening(server, signed_in, cast):
    """A listener the speakers follow is shown above the audience's list, and still counted
    in it: "In the audience (0)" never sits under someone listening."""
    room, host, _, ann = cast
    await database_sync_to_async(lambda: FollowFactory(follower=host, followee=ann))()
    host_page = await join(signed_in, server, room, host)
    await join(signed_in, server, room, ann)
    followed = host_page.locator("[data-followed-section]")
    await followed.locator(f".tile[data-user-id='{ann.pk}']").wait_for()
    await host_page.wait_for_function(
        "document.querySelector('[data-audience-count]').textContent === '(1)'"
    )
    assert await host_page.text_content("[data-audience-above]") == "All of them are listed above."
    assert await host_page.locator("[data-audience-empty]").is_hidden()


# The browser's Media Session and Wake Lock, watched: the handlers the page gives the system,
# and the screen locks it asks for and gives back.
WATCH_LOCK_SCREEN = """
window.__mediaHandlers = {};
const setHandler = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
navigator.mediaSession.setActionHandler = (action, handler) => {
  window.__mediaHandlers[action] = handler;
  setHandler(action, handler);
};
window.__wakeLocks = [];
Object.defineProperty(navigator, "wakeLock", {
  value: {
    request: async (type) => {
      const lock = { type, released: false, release: async () => { lock.released = true; } };
      window.__wakeLocks.push(lock);
      return lock;
    },
  },
});
"""


async def test_the_lock_screen_shows_the_room_and_keeps_a_speaker_awake(server, signed_in, cast):
    room, _, cory, _ = cast
    page = await signed_in(cory)
    await page.context.add_init_script(WATCH_LOCK_SCREEN)
    await open_room(page, server.url, room)
    await page.wait_for_function("navigator.mediaSession.metadata !== null")
    metadata = await page.evaluate(
        "(({title, artist, album}) => ({title, artist, album}))(navigator.mediaSession.metadata)"
    )
    assert metadata == {
        "title": "Town hall",
        "artist": "Hosted by Hana Host",
        "album": "Roundtable",
    }
    # Cory co-hosts: on stage, so the screen stays awake.
    await page.wait_for_function("window.__wakeLocks.length === 1")
    assert await page.evaluate("window.__wakeLocks[0].type") == "screen"

    # Pause from the lock screen: nothing plays; play resumes.
    await page.evaluate("window.__mediaHandlers.pause()")
    assert await page.evaluate("navigator.mediaSession.playbackState") == "paused"
    await page.evaluate("window.__mediaHandlers.play()")
    assert await page.evaluate("navigator.mediaSession.playbackState") == "playing"

    # The microphone from the lock screen: unmuted on stage.
    await page.evaluate("window.__mediaHandlers.togglemicrophone()")
    await page.wait_for_selector("[data-action=mute][aria-pressed=false]")

    # Leaving from the lock screen leaves the room and gives the screen back.
    await page.evaluate("window.__mediaHandlers.hangup()")
    await page.wait_for_selector("text=You left the room")
    assert await page.evaluate("window.__wakeLocks.every((lock) => lock.released)")
    assert await page.evaluate("navigator.mediaSession.metadata") is None
    assert await _member(room, cory) is None
