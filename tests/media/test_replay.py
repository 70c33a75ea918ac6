"""A recorded room, end to end: a host speaks through a real Janus in a recording room, a
listener listens, an invitee who does not agree stays off the stage, Janus dies and comes
back mid-room; after the end a real Celery worker makes the replay of both parts, which plays
with Range requests and names the host."""

import asyncio
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from config.celery import app as celery_app
from follows.services import block_create
from replays.models import Replay
from replays.processing import recording_parts
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.netns import run_inside
from tests.support.peers import RoomClient
from tests.support.servers import session_keys
from tests.support.stack import MediaStack, media_stack_or_skip

pytestmark = pytest.mark.django_db(transaction=True)

SPOKEN_SECONDS = 4.0


@pytest.fixture
def stack(settings, janus_secrets, tmp_path):
    media_stack_or_skip()
    recordings = tmp_path / "recordings"
    started = MediaStack(janus_secrets, ROOM_MEDIA="sfu", RECORDINGS_DIR=str(recordings)).start()
    started.settings_for(settings)
    settings.RECORDINGS_DIR = recordings
    yield started
    started.stop()


def _replay_when_done(room, wait: float = 90) -> Replay:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        replay = Replay.objects.get(room=room)
        if replay.status in (Replay.Status.READY, Replay.Status.FAILED):
            return replay
        time.sleep(0.2)
    raise AssertionError(f"The replay is still {replay.status}.")


def test_a_recorded_room_leaves_a_replay_that_plays_and_names_its_host(stack, workers):
    celery_app.conf.task_always_eager = False
    workers(**stack.env)
    host, guest, ann, blocked = (
        UserFactory(username=name) for name in ("host", "guest", "ann", "blocked")
    )
    room = room_create(host=host, title="On the record", recording=True)
    keys = dict(zip(("host", "guest", "ann"), session_keys([host, guest, ann]), strict=True))
    outcome = {}

    async def scenario(outside):
        speaker, invitee, listener = (
            RoomClient(stack.server.port, room.pk, keys[name], name)
            for name in ("host", "guest", "ann")
        )
        outcome["recording"] = (await speaker.open())["room"]["recording"]
        await invitee.open()
        await listener.open()
        await speaker.send("speaker.invite", user_id=guest.pk)
        await invitee.next_of("speaker.invited")
        await invitee.send("speaker.accept")
        outcome["refusal"] = (await invitee.next_of("error"))["code"]
        await speaker.send("mute.set", muted=False)
        await listener.listen()
        await speaker.publish()
        outcome["heard"] = await listener.hears()
        outcome["speaking"] = await listener.speaking_includes(host.pk)
        await asyncio.sleep(SPOKEN_SECONDS)
        # Janus dies mid-room: its part stays behind unclosed, and a new one starts.
        stack.janus.kill()
        await speaker.next_of("media.hangup")
        await listener.next_of("media.hangup")
        await asyncio.to_thread(stack.janus.start)
        await speaker.pc.close()
        await listener.pc.close()
        await listener.listen("listen-2")
        await speaker.publish("publish-2")
        outcome["heard_again"] = await listener.hears()
        await asyncio.sleep(SPOKEN_SECONDS)
        await speaker.send("room.end")
        await listener.next_of("room.ended")
        for client in (speaker, invitee, listener):
            await client.close()

    started = time.monotonic()
    run_inside(stack.namespace, scenario)
    lasted = time.monotonic() - started

    assert outcome["recording"] is True
    assert outcome["refusal"] == "record_consent_required"
    assert outcome["heard"]
    assert outcome["speaking"]
    assert outcome["heard_again"]
    replay = _replay_when_done(room)
    assert replay.status == Replay.Status.READY, replay.failure
    # Both parts, joined: the host is heard in each.
    assert 2 * SPOKEN_SECONDS <= replay.duration <= lasted + 1
    assert {chapter["user_id"] for chapter in replay.chapters} == {host.pk}
    assert replay.chapters[0]["start"] < SPOKEN_SECONDS < replay.chapters[-1]["end"]
    # The parts the replay was made of are gone once its files exist. (Once, on Postgres and
    # Redis, a part started seconds after the end: the bridge was made again, most likely by
    # a request in flight as the room ended. The reconciliation destroys such a bridge, and
    # its part is no part of the replay.)
    room.refresh_from_db()
    left = recording_parts(Path(stack.env["RECORDINGS_DIR"]) / room.pk.hex)
    assert [part for part in left if part.started_at < room.ended_at] == []

    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.server.port}/rooms/{room.pk}/replay/audio.ogg",
        headers={"Range": "bytes=0-99", "Cookie": f"sessionid={keys['ann']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert answer.status == 206
        assert answer.headers["Content-Range"].startswith("bytes 0-99/")
        assert answer.read()[:4] == b"OggS"

    listener_view = Client()
    listener_view.force_login(ann)
    body = listener_view.get(f"/api/rooms/{room.pk}/replay/").json()
    assert (body["status"], body["chapters"][0]["user"]["username"]) == ("ready", "host")
    block_create(blocker=host, blocked=blocked)
    outsider = Client()
    outsider.force_login(blocked)
    assert outsider.get(f"/api/rooms/{room.pk}/replay/").status_code == 404

    owner = Client()
    owner.force_login(host)
    assert owner.delete(f"/api/rooms/{room.pk}/replay/").status_code == 204
    assert not Replay.objects.filter(room=room).exists()
