"""Audio in real browsers: Chromium pages with fake microphones in a room served by a real
server process, heard through WebRTC statistics."""

import pytest
from channels.db import database_sync_to_async

from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, follower_of
from tests.support.pages import (
    audio,
    eventually,
    hears,
    hears_silence,
    join,
    sends_nothing,
    unmute,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@database_sync_to_async
def _status(room) -> str:
    return Room.objects.get(pk=room.pk).status


async def test_listener_hears_goes_on_stage_and_the_room_ends(server, signed_in, room, ann):
    host = room.host
    host_page = await join(signed_in, server, room, host, talk=True)
    listener = await join(signed_in, server, room, ann)

    # 1. The listener hears the host, sends nothing and was never asked for a microphone.
    await hears(listener, host.pk)
    state = await audio(listener)
    assert state["micRequests"] == 0
    assert state["mic"] == []
    assert state["peers"][host.pk]["sent"] == 0
    assert state["players"] == 1

    # 2. A raised hand, an invitation, an acceptance: the host hears the new speaker.
    await listener.click("[data-action=hand]")
    await host_page.click(f".hand[data-user-id='{ann.pk}'] button")
    await listener.click("[data-action=accept]")
    await unmute(listener)
    await hears(host_page, ann.pk)
    state = await audio(listener)
    assert state["micRequests"] == 1
    # Opus set for voice: mono, discontinuous transmission, 32 kbit/s.
    (codec,) = state["peers"][host.pk]["sending"]
    assert codec.startswith("audio/opus ")
    for parameter in ("stereo=0", "usedtx=1", "maxaveragebitrate=32000"):
        assert parameter in codec.split(" ", 1)[1].split(";")

    # 3. The host mutes: what the listener receives from them falls silent.
    await host_page.click("[data-action=mute]")
    await hears_silence(listener, host.pk)

    # 4. The host moves the speaker back to the audience, from the keyboard: they stop
    # sending and release the microphone.
    await host_page.focus(f".tile[data-user-id='{ann.pk}'] summary")
    await host_page.keyboard.press("Enter")
    await host_page.get_by_role("button", name="Move to audience").click()
    await sends_nothing(listener)
    await listener.wait_for_selector("[data-action=hand]:visible")

    # 5. The host ends the room: both pages say so and every connection is closed.
    host_page.on("dialog", lambda dialog: dialog.accept())
    await host_page.click("[data-action=end]")
    for page in (host_page, listener):
        await page.wait_for_selector("text=This room has ended")
        state = await audio(page)
        assert (state["peers"], state["mic"], state["players"]) == ({}, [], 0)
    assert await _status(room) == Room.Status.ENDED


async def test_a_cut_socket_reconnects_resyncs_and_keeps_the_sound(server, signed_in, room, ann):
    host = room.host
    await join(signed_in, server, room, host, talk=True)
    listener = await join(signed_in, server, room, ann)
    await hears(listener, host.pk)

    # The connection drops as a network would drop it; the page comes back by itself.
    await listener.evaluate("window.cutSocket = window.roundtable.socket.ws; cutSocket.close(4000)")
    await listener.wait_for_function(
        "window.roundtable.socket.ws !== window.cutSocket && window.roundtable.state.snapshots === 2"
    )
    await listener.wait_for_selector(f".tile[data-user-id='{ann.pk}']")
    await hears(listener, host.pk)

    # A gap in the numbers (a missed event) brings a fresh snapshot.
    await listener.evaluate(
        "window.roundtable.receive({type: 'member.left', seq: window.roundtable.state.seq + 3,"
        " user_id: 0})"
    )
    await listener.wait_for_function("window.roundtable.state.snapshots === 3")
    await hears(listener, host.pk)

    # The page numbers the types the server's snapshot lists as numbered.
    assert "members.batch" in await listener.evaluate("[...window.roundtable.state.numbered]")
    # An event of a type the page has no code for counts in the numbering all the same when
    # the server lists it (as a newer server would): no gap, no snapshot after the next one.
    await listener.evaluate("window.roundtable.state.numbered.add('room.retitled')")
    seq = await listener.evaluate("window.roundtable.state.seq")
    await listener.evaluate(f"window.roundtable.receive({{type: 'room.retitled', seq: {seq + 1}}})")
    await listener.evaluate(
        f"window.roundtable.receive({{type: 'member.left', seq: {seq + 2}, user_id: 0}})"
    )
    assert await listener.evaluate("window.roundtable.state.seq") == seq + 2
    assert await listener.evaluate("window.roundtable.state.snapshots") == 3


@pytest.fixture
def panel():
    host = UserFactory(username="hana")
    co_hosts = [follower_of(host, username="cory"), follower_of(host, username="cleo")]
    listeners = [UserFactory(username="lou"), UserFactory(username="liv")]
    room = room_create(host=host, title="Panel", co_hosts=co_hosts)
    return room, [host, *co_hosts], listeners


async def test_three_speakers_and_two_listeners_all_hear_every_speaker(server, signed_in, panel):
    room, speakers, listeners = panel
    pages = {}
    for person in speakers:
        pages[person.pk] = await join(signed_in, server, room, person, talk=True, width=800)
    for person in listeners:
        pages[person.pk] = await join(signed_in, server, room, person, width=800)

    for person in [*speakers, *listeners]:
        for speaker in speakers:
            if speaker.pk != person.pk:
                await hears(pages[person.pk], speaker.pk)
    # Listeners connect only to the speakers, and send nothing.
    for person in listeners:
        state = await audio(pages[person.pk])
        assert set(state["peers"]) == {speaker.pk for speaker in speakers}
        assert all(peer["sent"] == 0 for peer in state["peers"].values())
        assert state["players"] == 3


@pytest.fixture
def cory(room):
    cory = UserFactory(username="cory")
    room.co_hosts.add(cory)
    return cory


@pytest.mark.usefixtures("cory")
async def test_a_silent_connection_is_restarted_without_touching_the_others(
    server, signed_in, room, ann
):
    host = room.host
    cory = await database_sync_to_async(room.co_hosts.get)()
    host_page = await join(signed_in, server, room, host, talk=True)
    cory_page = await join(signed_in, server, room, cory, talk=True)
    listener = await join(signed_in, server, room, ann)
    await hears(listener, host.pk)
    await hears(listener, cory.pk)
    before = (await audio(listener))["peers"][cory.pk]

    # The host's voice stops reaching the listener, though the host is not muted.
    await host_page.evaluate(f"window.roundtable.debug.simulate('stall', {ann.pk})")
    # The host's tile says so, and the page too, rather than silence.
    await listener.wait_for_function(
        f"""() => !document.querySelector(".tile[data-user-id='{host.pk}'] [data-reconnecting]")
            .hidden && document.querySelector("[data-audio-note]").textContent
            === "Audio lost. Reconnecting…" """,
        timeout=20000,
    )
    await hears(listener, host.pk)
    await listener.wait_for_selector(
        f".tile[data-user-id='{host.pk}'] [data-reconnecting]", state="hidden"
    )
    await listener.wait_for_selector("[data-audio-note]", state="hidden")
    peers = (await audio(listener))["peers"]
    assert peers[host.pk]["restarts"] + peers[host.pk]["rebuilds"] >= 1
    untouched = ("session", "restarts", "rebuilds")
    assert [peers[cory.pk][key] for key in untouched] == [before[key] for key in untouched]
    await hears(listener, cory.pk)

    # A connection renegotiated so that it carries no voice at all is built anew.
    await cory_page.evaluate(f"window.roundtable.debug.simulate('no-voice', {ann.pk})")
    await listener.wait_for_selector(
        f".tile[data-user-id='{cory.pk}'] [data-reconnecting]:visible", timeout=20000
    )
    await hears(listener, cory.pk)
    await hears(listener, host.pk)
    assert (await audio(listener))["peers"][cory.pk]["rebuilds"] >= 1


async def test_blocked_autoplay_offers_tap_to_listen(server, signed_in, room, ann):
    await join(signed_in, server, room, room.host, talk=True)
    listener = await join(signed_in, server, room, ann, autoplay=False)
    tap = listener.get_by_role("button", name="Tap to listen")
    await tap.wait_for(state="visible")
    await tap.click()
    await tap.wait_for(state="hidden")
    await listener.wait_for_function(
        "[...document.querySelectorAll('[data-players] audio')].every((audio) => !audio.paused)"
    )
    await hears(listener, room.host.pk)


async def _suppressing(page) -> bool:
    mic = (await audio(page))["mic"]
    return len(mic) == 1 and mic[0]["state"] == "live" and mic[0]["processing"]["noiseSuppression"]


async def _mic_level(page) -> float | None:
    level = await page.evaluate("document.querySelector('[data-mic-level]').value")
    return level if level > 0.01 else None


async def test_a_microphone_checked_before_the_stage_is_the_one_used(server, signed_in, room, ann):
    host = room.host
    host_page = await join(signed_in, server, room, host, talk=True)
    listener = await join(signed_in, server, room, ann)
    await listener.click("[data-action=hand]")
    await host_page.click(f".hand[data-user-id='{ann.pk}'] button")

    # The invitation offers a check: the meter moves with the voice, the device is named.
    await listener.click("[data-invite] [data-action=microphone]")
    dialog = listener.locator("[data-mic-dialog]")
    await dialog.wait_for(state="visible")
    await eventually(lambda: _mic_level(listener), "the meter showing the microphone's level")
    assert await listener.locator("[data-mic-device] option").count() >= 1
    await dialog.get_by_label("Noise suppression").uncheck()
    await dialog.get_by_role("button", name="Save").click()
    await dialog.wait_for(state="hidden")
    assert (await audio(listener))["mic"] == [], "the check's preview is released"

    # On stage, the page takes the microphone as saved, and the host hears it.
    await listener.click("[data-action=accept]")
    await unmute(listener)
    await hears(host_page, ann.pk)
    (track,) = (await audio(listener))["mic"]
    assert track["processing"] == {
        "echoCancellation": True,
        "noiseSuppression": False,
        "autoGainControl": True,
    }

    # Changed on stage, it applies at once.
    await listener.click("summary[aria-label='More room actions']")
    await listener.click("[data-action=microphone]")
    await dialog.get_by_label("Noise suppression").check()
    await dialog.get_by_role("button", name="Save").click()
    await eventually(lambda: _suppressing(listener), "the microphone taken again as saved")
    await hears(host_page, ann.pk)
