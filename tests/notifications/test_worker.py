"""A real Celery worker process, as `make run` starts it: a room starts, the fan-out runs in
the worker, and the follower's socket on a real daphne process hears it. On Redis the
worker is also killed in the middle of a large fan-out."""

import asyncio
import json
import signal
import time
import urllib.request
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from websockets.asyncio.client import connect

from accounts.models import User
from accounts.services.tokens import api_token_create
from config.celery import app as celery_app
from follows.models import Follow
from notifications.models import FanOut, Notification
from notifications.services import reminders_send
from rooms.services.lifecycle import room_create
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]


@pytest.fixture
def through_the_broker():
    """Tasks go to the broker, where the worker process takes them (not run in-process)."""
    celery_app.conf.task_always_eager = False


def _cookie(user) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _next_frame(ws, kind: str, wait: float = 30) -> dict:
    deadline = time.monotonic() + wait
    while True:
        frame = json.loads(
            await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.01))
        )
        if frame["type"] == kind:
            return frame


@pytest.mark.usefixtures("through_the_broker")
async def test_a_room_start_reaches_a_follower_through_a_real_worker(server, workers):
    host = await database_sync_to_async(UserFactory)(display_name="Maya")
    follower = await database_sync_to_async(UserFactory)()
    await Follow.objects.acreate(follower=follower, followee=host)
    cookie = await database_sync_to_async(_cookie)(follower)
    _, token = await database_sync_to_async(api_token_create)(user=follower)
    worker = await asyncio.to_thread(workers)
    async with connect(
        f"{server.ws_url}/ws/notifications/",
        origin=server.url,
        additional_headers={"Cookie": cookie},
    ) as ws:
        assert json.loads(await ws.recv()) == {"type": "unread.count", "count": 0}
        room = await database_sync_to_async(room_create)(host=host, title="Worker jazz")
        try:
            created = await _next_frame(ws, "notification.created")
        except TimeoutError:
            pytest.fail(f"no push arrived.\nworker:\n{worker.output()}\nweb:\n{server.output()}")
        assert created["notification"]["kind"] == "room_started"
        assert created["notification"]["room"]["id"] == str(room.pk)
        assert (await _next_frame(ws, "unread.count"))["count"] == 1

    def api_get():
        request = urllib.request.Request(  # noqa: S310 -- our own server's http URL
            f"{server.url}/api/notifications/", headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    body = await asyncio.to_thread(api_get)
    assert [(n["kind"], n["room"]["id"]) for n in body["results"]] == [
        ("room_started", str(room.pk))
    ]


def _many_followers(host, n: int) -> list[int]:
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        User(username=f"crowd{i}", password=password) for i in range(n)
    )
    Follow.objects.bulk_create(Follow(follower=u, followee=host) for u in users)
    return [u.pk for u in users]


def _count(room) -> int:
    return Notification.objects.filter(room=room).count()


def _broker_busy() -> bool:
    """Whether the broker holds tasks: waiting in the queue, or taken by a worker and not
    acknowledged yet (a killed worker's, until they are handed out again)."""
    with celery_app.connection_for_read() as broker:
        channel = broker.default_channel
        waiting = channel.queue_declare(celery_app.conf.task_default_queue)
        return waiting.message_count > 0 or channel.client.hlen(channel.unacked_key) > 0


@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="the embedded file-system broker deletes a message as it hands it out, so a "
    "killed worker's task cannot come back; Redis keeps it until it is acknowledged",
)
@pytest.mark.usefixtures("through_the_broker")
def test_a_worker_killed_mid_fan_out_leaves_exactly_one_notification_each(workers):
    recipients = 3000
    host = UserFactory()
    followers = _many_followers(host, recipients)
    first = workers(NOTIFY_CHUNK_SIZE=20)
    room = room_create(host=host, title="Crowded")
    deadline = time.monotonic() + 60
    while _count(room) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.kill()
    written_before_the_kill = _count(room)
    assert 0 < written_before_the_kill < recipients, first.output()
    time.sleep(1.5)  # past the second worker's visibility timeout
    second = workers(NOTIFY_CHUNK_SIZE=20, CELERY_VISIBILITY_TIMEOUT=1)
    # The killed worker's unacknowledged tasks come back and run. A task it held between
    # taking it off the queue and recording it as unacknowledged is lost with it (kombu's
    # Redis transport); the minute task's check of the fan-out finds its recipients.
    deadline = time.monotonic() + 120
    while _broker_busy() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _broker_busy(), second.output()
    missing = recipients - _count(room)
    later = timezone.now() + timedelta(seconds=settings.NOTIFY_VERIFY_AFTER_SECONDS + 1)
    assert reminders_send(now=later)["resent"] == missing
    deadline = time.monotonic() + 60
    while _count(room) < recipients and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _count(room) == recipients, second.output()
    per_recipient = (
        Notification.objects.filter(room=room).values("recipient").annotate(n=Count("pk"))
    )
    assert {row["recipient"] for row in per_recipient} == set(followers)
    assert {row["n"] for row in per_recipient} == {1}
    assert FanOut.objects.get(room=room).recipients == recipients


@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="the embedded file-system broker deletes a message as it hands it out; Redis "
    "keeps it until it is acknowledged",
)
@pytest.mark.usefixtures("through_the_broker")
def test_a_worker_told_to_stop_mid_fan_out_finishes_its_task_and_hands_back_the_rest(workers):
    """SIGTERM, as a supervisor or a deploy stops it: the chunk in progress is written whole,
    the rest stays with the broker for the next worker, and nothing needs resending."""
    recipients = 3000
    host = UserFactory()
    followers = _many_followers(host, recipients)
    first = workers(NOTIFY_CHUNK_SIZE=20)
    room = room_create(host=host, title="Through a deploy")
    deadline = time.monotonic() + 60
    while _count(room) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=60) == 0, first.output()
    assert 0 < _count(room) < recipients, first.output()
    second = workers(NOTIFY_CHUNK_SIZE=20)
    deadline = time.monotonic() + 120
    while _count(room) < recipients and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _count(room) == recipients, second.output()
    later = timezone.now() + timedelta(seconds=settings.NOTIFY_VERIFY_AFTER_SECONDS + 1)
    assert reminders_send(now=later)["resent"] == 0
    per_recipient = (
        Notification.objects.filter(room=room).values("recipient").annotate(n=Count("pk"))
    )
    assert {row["recipient"] for row in per_recipient} == set(followers)
    assert {row["n"] for row in per_recipient} == {1}
