"""The Celery fan-out: chunks, idempotency, reminders, email, and faults of the broker and
the channel layer."""

import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from notifications import services, tasks
from notifications.models import Connection, FanOut, Notification, Preferences
from notifications.serializers import notification_payload
from notifications.services import reminders_send
from realtime.messages import person_group
from rooms.models import Room, RoomRsvp
from rooms.services.lifecycle import room_create, room_end, room_start
from tests.factories import ClubFactory, FollowFactory, UserFactory

Kind = Notification.Kind
pytestmark = pytest.mark.django_db


def _fans(host, n):
    return [FollowFactory(followee=host).follower for _ in range(n)]


def _online(user):
    Connection.objects.create(channel_name=f"test!{user.pk}", user=user, last_seen=timezone.now())


def _scheduled(host, minutes=5, **fields):
    return room_create(
        host=host,
        title="Later",
        scheduled_for=timezone.now() + timedelta(minutes=minutes),
        **fields,
    )


def _rows(kind=Kind.ROOM_STARTED):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


@pytest.fixture
def chunk_calls(monkeypatch):
    """The recipient lists of every chunk task enqueued (the tasks still run)."""
    calls = []
    original = tasks.fan_out_chunk.delay

    def record(fan_out_id, recipient_ids, push):
        calls.append(list(recipient_ids))
        return original(fan_out_id, recipient_ids, push)

    monkeypatch.setattr(tasks.fan_out_chunk, "delay", record)
    return calls


def test_the_audience_is_written_in_chunks(host, committed, settings, chunk_calls):
    settings.NOTIFY_CHUNK_SIZE = 2
    fans = _fans(host, 5)
    with committed():
        room = room_create(host=host, title="Now")
    assert [len(c) for c in chunk_calls] == [2, 2, 1]
    assert _rows() == sorted(f.pk for f in fans)
    fan_out = FanOut.objects.get(room=room, kind=Kind.ROOM_STARTED)
    assert fan_out.planned_at is not None
    assert fan_out.recipients == 5


def test_scheduling_a_room_tells_the_audience(host, committed):
    fans = _fans(host, 2)
    with committed():
        _scheduled(host, minutes=120)
    assert _rows(Kind.ROOM_SCHEDULED) == sorted(f.pk for f in fans)
    assert _rows(Kind.ROOM_STARTED) == []


def test_starting_a_scheduled_room_tells_the_audience_once(host, committed):
    fans = _fans(host, 2)
    with committed():
        room = _scheduled(host, minutes=120)
    with committed():
        room_start(actor=host, room_id=room.pk)
    assert _rows(Kind.ROOM_STARTED) == sorted(f.pk for f in fans)


def test_every_task_run_twice_leaves_one_notification_each(host, committed, settings):
    settings.NOTIFY_CHUNK_SIZE = 2
    fans = _fans(host, 5)
    with committed():
        room = room_create(host=host, title="Now")
    fan_out = FanOut.objects.get(room=room)
    with committed():
        assert tasks.fan_out_plan(fan_out.pk) is None  # planned already: a repeat is a no-op
        ids = [f.pk for f in fans]
        tasks.fan_out_chunk(fan_out.pk, ids[:2])
        tasks.fan_out_chunk(fan_out.pk, ids)
    assert _rows() == sorted(ids)


def test_a_plan_repeated_after_a_worker_died_before_marking_it_changes_nothing(host, committed):
    _fans(host, 3)
    with committed():
        room = room_create(host=host, title="Now")
    before = _rows()
    FanOut.objects.filter(room=room).update(planned_at=None)  # died before the mark
    with committed():
        assert tasks.fan_out_plan(FanOut.objects.get(room=room).pk) == 3
    assert _rows() == before
    assert Notification.objects.count() == 3


def test_a_fan_out_that_runs_late_says_nothing_about_an_ended_room(host, committed, monkeypatch):
    _fans(host, 2)
    monkeypatch.setattr(services, "fan_out_dispatch", lambda **kwargs: False)
    with committed():
        room = room_create(host=host, title="Short")
    room_end(actor=host, room_id=room.pk)
    monkeypatch.undo()
    with committed():
        assert tasks.fan_out_plan(FanOut.objects.get(room=room).pk) == 0
    assert Notification.objects.count() == 0


def test_online_recipients_get_the_push_and_offline_ones_do_not(host, committed, listen):
    online, offline = _fans(host, 2)
    _online(online)
    heard_online = listen(person_group(online.pk))
    heard_offline = listen(person_group(offline.pk))
    with committed():
        room = room_create(host=host, title="Now")
    [message] = heard_online.messages()
    assert message["type"] == "notification.created"
    assert message["count"] == 1
    frame = json.loads(message["text"])
    assert frame["type"] == "notification.created"
    notification = frame["notification"]
    assert notification["kind"] == "room_started"
    assert notification["room"]["id"] == str(room.pk)
    assert notification["url"] == room.get_absolute_url()
    assert notification["text"] == f"{host.name} started “Now”"
    assert heard_offline.messages() == []


def test_the_chunks_of_online_recipients_go_first_and_only_they_push(
    host, committed, settings, chunk_calls, listen
):
    settings.NOTIFY_CHUNK_SIZE = 2
    fans = _fans(host, 5)
    online = [fans[1], fans[3], fans[4]]
    for fan in online:
        _online(fan)
    heard = listen(*(person_group(fan.pk) for fan in fans))
    with committed():
        room_create(host=host, title="Now")
    assert chunk_calls == [[fans[1].pk, fans[3].pk], [fans[4].pk], [fans[0].pk, fans[2].pk]]
    assert _rows() == sorted(f.pk for f in fans)
    pushed = [json.loads(m["text"])["notification"]["id"] for m in heard.messages()]
    assert sorted(pushed) == sorted(
        Notification.objects.filter(recipient__in=online).values_list("pk", flat=True)
    )


def test_a_pushed_notification_says_what_the_inbox_says_of_it(host, committed, listen):
    """The push of a fan-out serializes the event once and sets each row's own fields:
    every frame must equal the row's own payload, as the API lists it."""
    fans = _fans(host, 3)
    for fan in fans:
        _online(fan)
    heard = listen(*(person_group(fan.pk) for fan in fans))
    with committed():
        room_create(host=host, title="Now")
    frames = [json.loads(m["text"])["notification"] for m in heard.messages()]
    assert len({frame["id"] for frame in frames}) == 3
    for frame in frames:
        row = Notification.objects.select_related("actor", "room", "club").get(pk=frame["id"])
        assert frame == json.loads(json.dumps(notification_payload(row), cls=DjangoJSONEncoder))


@pytest.fixture
def online_fan(host, user):
    FollowFactory(follower=user, followee=host)
    _online(user)
    return user


def test_hundreds_of_online_recipients_each_get_their_push(host, committed, listen):
    fans = _fans(host, 300)
    for fan in fans:
        _online(fan)
    heard = listen(*(person_group(fan.pk) for fan in fans))
    with committed():
        room_create(host=host, title="Busy")
    messages = heard.messages()
    assert len(messages) == 300
    assert {m["type"] for m in messages} == {"notification.created"}


def test_a_broker_that_is_down_when_a_room_starts_loses_nothing(
    host, committed, monkeypatch, listen, online_fan
):
    """Redis is down as the room starts: the room starts all the same, and the fan-out goes
    out from the minute task once the broker answers again."""
    user = online_fan
    heard = listen(person_group(user.pk))

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.fan_out_plan, "delay", broker_down)
    with committed():
        room = room_create(host=host, title="Despite the outage")
    assert Room.objects.get(pk=room.pk).is_live
    assert Notification.objects.count() == 0
    assert reminders_send()["redispatched"] == 0  # too early: the enqueue may be on its way
    monkeypatch.undo()  # the broker is back
    with committed():
        result = reminders_send(now=timezone.now() + timedelta(seconds=61))
    assert result["redispatched"] == 1
    assert _rows() == [user.pk]
    assert [m["type"] for m in heard.messages()] == ["notification.created"]
    client = APIClient()
    client.force_authenticate(user)
    body = client.get("/api/notifications/").json()
    assert [n["kind"] for n in body["results"]] == ["room_started"]


@pytest.fixture
def broker_loses(monkeypatch):
    """The broker loses the chunk tasks whose recipients include this person (as Redis'
    transport does when a worker dies between taking a message and recording it); `None`:
    it loses nothing again."""
    lost = []
    original = tasks.fan_out_chunk.delay

    def lose(person):
        def deliver(fan_out_id, recipient_ids, push):
            if person is not None and person.pk in recipient_ids:
                lost.append(list(recipient_ids))
                return None
            return original(fan_out_id, recipient_ids, push)

        monkeypatch.setattr(tasks.fan_out_chunk, "delay", deliver)
        return lost

    return lose


def test_a_chunk_the_broker_lost_is_sent_again_by_the_minute_task(
    host, committed, listen, settings, broker_loses
):
    settings.NOTIFY_CHUNK_SIZE = 2
    fans = _fans(host, 5)
    unlucky = fans[2]
    _online(unlucky)  # alone in the first chunk: those online come first
    heard = listen(person_group(unlucky.pk))
    lost = broker_loses(unlucky)
    with committed():
        room_create(host=host, title="Lossy")
    assert lost == [[unlucky.pk]]
    delivered = {n.recipient_id: n.pk for n in Notification.objects.filter(kind=Kind.ROOM_STARTED)}
    assert sorted(delivered) == sorted(f.pk for f in fans if f != unlucky)
    broker_loses(None)  # the broker behaves again

    later = timezone.now() + timedelta(seconds=settings.NOTIFY_VERIFY_AFTER_SECONDS)
    with committed():
        assert reminders_send()["resent"] == 0  # too early: a killed worker's task may return
        assert reminders_send(now=later + timedelta(seconds=1))["resent"] == 1
    assert _rows() == sorted(f.pk for f in fans)
    untouched = Notification.objects.filter(kind=Kind.ROOM_STARTED).exclude(recipient=unlucky)
    assert {n.recipient_id: n.pk for n in untouched} == delivered
    assert [m["type"] for m in heard.messages()] == ["notification.created"]
    assert FanOut.objects.get().verified_at is None  # checked again after the next wait

    checked = later + timedelta(seconds=settings.NOTIFY_VERIFY_AFTER_SECONDS + 2)
    assert reminders_send(now=checked)["resent"] == 0
    assert FanOut.objects.get().verified_at == checked
    assert reminders_send(now=checked + timedelta(hours=1))["resent"] == 0
    assert Notification.objects.filter(kind=Kind.ROOM_STARTED).count() == len(fans)


def test_a_room_that_ended_is_not_told_late(host, committed, settings, broker_loses):
    fans = _fans(host, 3)
    lost = broker_loses(fans[0])
    with committed():
        room = room_create(host=host, title="Short")
    assert lost  # the only chunk: nobody was told
    room_end(actor=host, room_id=room.pk)
    later = timezone.now() + timedelta(seconds=settings.NOTIFY_VERIFY_AFTER_SECONDS + 1)
    assert reminders_send(now=later)["resent"] == 0
    assert Notification.objects.filter(kind=Kind.ROOM_STARTED).count() == 0
    assert FanOut.objects.get(kind=Kind.ROOM_STARTED).verified_at == later


def test_a_push_that_fails_keeps_the_notification(host, committed, monkeypatch, caplog):
    fan = _fans(host, 1)[0]
    _online(fan)

    def layer_down(pushes):
        raise ConnectionError("Redis is gone")

    monkeypatch.setattr(services, "deliver_to_groups", layer_down)
    with committed():
        room_create(host=host, title="Now")
    assert _rows() == [fan.pk]
    assert "Pushing 1 notifications failed" in caplog.text


# --- Reminders ---------------------------------------------------------------------------


def test_a_reminder_goes_out_once_for_a_room_about_to_start(host, committed):
    fans = _fans(host, 2)
    asked = UserFactory()
    soon = _scheduled(host, minutes=5)
    later = _scheduled(host, minutes=60)
    RoomRsvp.objects.create(room=soon, user=asked)
    with committed():
        assert reminders_send()["reminded"] == 1
    with committed():
        assert reminders_send()["reminded"] == 0
    assert _rows(Kind.ROOM_REMINDER) == sorted([asked.pk, *(f.pk for f in fans)])
    assert not Notification.objects.filter(room=later, kind=Kind.ROOM_REMINDER).exists()


def test_a_room_long_past_its_time_gets_no_reminder(host, committed):
    _fans(host, 1)
    room = _scheduled(host, minutes=5)
    with committed():
        assert reminders_send(now=room.scheduled_for + timedelta(minutes=30))["reminded"] == 0


def test_the_command_does_the_same_work(host, committed):
    _fans(host, 1)
    _scheduled(host, minutes=5)
    with committed():
        call_command("send_room_reminders", stdout=io.StringIO())
    assert len(_rows(Kind.ROOM_REMINDER)) == 1


def test_reminder_emails_go_to_people_who_opted_in_once(host, committed):
    opted, not_opted = _fans(host, 2)
    Preferences.objects.create(user=opted, email_reminders=True)
    room = _scheduled(host, minutes=5)
    with committed():
        reminders_send()
    assert [m.to for m in mail.outbox] == [[opted.email]]
    assert room.title in mail.outbox[0].subject
    assert room.get_absolute_url() in mail.outbox[0].body
    fan_out = FanOut.objects.get(room=room, kind=Kind.ROOM_REMINDER)
    with committed():
        tasks.fan_out_chunk(fan_out.pk, [opted.pk, not_opted.pk])
    assert len(mail.outbox) == 1


def test_a_reminder_email_gives_the_start_on_the_readers_clock(host, committed, settings):
    settings.TIME_ZONE = "UTC"
    in_new_york, in_tokyo = _fans(host, 2)
    Preferences.objects.create(user=in_new_york, email_reminders=True, time_zone="America/New_York")
    Preferences.objects.create(user=in_tokyo, email_reminders=True, time_zone="Asia/Tokyo")
    room = _scheduled(host, minutes=5)
    room.scheduled_for = datetime(2030, 1, 15, 15, 0, tzinfo=UTC)
    room.save(update_fields=["scheduled_for"])
    with committed():
        services.fan_out_chunk(
            fan_out_id=services.fan_out_create(room=room, kind=Kind.ROOM_REMINDER).pk,
            recipient_ids=[in_new_york.pk, in_tokyo.pk],
        )
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "starts at 10:00 EST, Tuesday 15 January" in bodies[in_new_york.email]
    assert "starts at 00:00 JST, Wednesday 16 January" in bodies[in_tokyo.email]


@pytest.mark.django_db(transaction=True)
def test_reminder_tasks_running_at_the_same_time_remind_once(settings):
    host = UserFactory()
    fans = _fans(host, 30)
    _scheduled(host, minutes=5)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            reminders_send()
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert FanOut.objects.filter(kind=Kind.ROOM_REMINDER).count() == 1
    assert _rows(Kind.ROOM_REMINDER) == sorted(f.pk for f in fans)


def test_notifications_go_with_what_they_are_about(host, committed):
    # The database checks only a notification's recipient (the fan-out writes the same
    # actor, room and club on every row): Django's cascade removes the rest.
    fans = _fans(host, 2)
    with committed():
        room = room_create(host=host, title="Now")
    club = ClubFactory(owner=host)
    services.club_invite_notify(actor=fans[1], user=fans[0], club=club)
    services.new_follower_notify(follower=fans[1], followee=host)
    assert Notification.objects.filter(room=room).count() == 2

    room.delete()
    assert not Notification.objects.filter(kind=Kind.ROOM_STARTED).exists()
    club.delete()
    assert not Notification.objects.filter(kind=Kind.CLUB_INVITE).exists()
    assert Notification.objects.filter(kind=Kind.NEW_FOLLOWER, recipient=host).exists()
    fans[1].delete()
    assert not Notification.objects.exists()
