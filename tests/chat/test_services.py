"""Posting, deleting, muting and settings: their limits, their frames and what they announce."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import MESSAGE_MAX_LENGTH, Message
from core.errors import ApplicationError
from moderation.models import ModerationLog
from moderation.services.restrictions import user_suspend
from notifications.models import Notification
from notifications.selectors import notification_text
from rooms.models import Room, RoomMember
from rooms.services import stage
from tests.factories import BlockFactory, UserFactory, make_moderator
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Action = ModerationLog.Action


def _frames(listener) -> list[dict]:
    return [json.loads(m["text"]) for m in listener.messages()]


def test_a_message_goes_to_the_room_once_without_a_seq(live_room, listener, listen, commit):
    events = listen(live_room.group_name)
    with commit():
        message = services.message_send(actor=listener, room_id=live_room.pk, text="  Hi all  ")
    (sent,) = events.messages()
    assert sent["author_id"] == listener.pk
    frame = json.loads(sent["text"])
    assert frame["type"] == "chat.message"
    assert "seq" not in frame
    assert frame["message"]["id"] == message.pk
    assert frame["message"]["text"] == "Hi all"
    assert frame["message"]["user"]["username"] == "listener"
    assert frame["message"]["reply_to"] is None
    live_room.refresh_from_db()
    assert live_room.seq == 0


def test_text_is_stored_as_written(live_room, listener):
    text = '<script>alert("x")</script> & <b>bold</b>'
    message = services.message_send(actor=listener, room_id=live_room.pk, text=text)
    assert Message.objects.get(pk=message.pk).text == text


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("   \n ", "empty"), ("x" * (MESSAGE_MAX_LENGTH + 1), "too_long")],
)
def test_empty_and_long_messages_are_refused(live_room, listener, text, code):
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text=text)
    assert raised.value.code == code
    assert not Message.objects.exists()


def test_a_message_of_the_largest_size_is_kept(live_room, listener):
    services.message_send(actor=listener, room_id=live_room.pk, text="x" * MESSAGE_MAX_LENGTH)
    assert Message.objects.get().text == "x" * MESSAGE_MAX_LENGTH


def test_people_outside_the_room_cannot_post(live_room):
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=UserFactory(), room_id=live_room.pk, text="Hi")
    assert raised.value.status == 403


def test_a_removed_person_cannot_post(live_room, host, listener):
    stage.member_remove(actor=host, room_id=live_room.pk, user_id=listener.pk)
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="Back")
    assert raised.value.status == 403


def test_a_suspended_person_cannot_post(live_room, listener):
    user_suspend(actor=make_moderator(), user=listener, duration=timedelta(days=1), reason="Spam.")
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="Hi")
    assert raised.value.status == 403


def test_nobody_posts_in_an_ended_room(live_room, listener):
    Room.objects.filter(pk=live_room.pk).update(status=Room.Status.ENDED, ended_at=timezone.now())
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="Hi")
    assert raised.value.status == 404


def test_slow_mode_spaces_out_one_persons_messages(live_room, host, listener):
    services.chat_settings_set(actor=host, room_id=live_room.pk, mode="on", slow_seconds=30)
    services.message_send(actor=listener, room_id=live_room.pk, text="One")
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="Two")
    assert (raised.value.code, raised.value.status) == ("slow_mode", 429)
    assert "30 s" in raised.value.message
    Message.objects.update(created=timezone.now() - timedelta(seconds=31))
    services.message_send(actor=listener, room_id=live_room.pk, text="Two")
    # Moderators are not slowed down.
    services.message_send(actor=host, room_id=live_room.pk, text="A")
    services.message_send(actor=host, room_id=live_room.pk, text="B")
    assert Message.objects.count() == 4


def test_a_reply_carries_a_preview_of_its_message(live_room, host, listener, listen, commit):
    first = services.message_send(actor=host, room_id=live_room.pk, text="Question?")
    events = listen(live_room.group_name)
    with commit():
        services.message_send(
            actor=listener, room_id=live_room.pk, text="Answer.", reply_to=first.pk
        )
    (frame,) = _frames(events)
    assert frame["message"]["reply_to"] == {
        "id": first.pk,
        "user": frame["message"]["reply_to"]["user"],
        "text": "Question?",
        "deleted": False,
    }
    assert frame["message"]["reply_to"]["user"]["username"] == "host"


def test_a_reply_to_a_message_of_another_room_is_refused(live_room, host, listener):
    elsewhere = Room.objects.create(
        host=host, title="Other", status="live", started_at=timezone.now(), speaker_cap=5
    )
    member(elsewhere, host, RoomMember.Role.MODERATOR)
    other = services.message_send(actor=host, room_id=elsewhere.pk, text="Elsewhere")
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="Hm", reply_to=other.pk)
    assert raised.value.status == 404


def test_mentions_highlight_people_inside_and_notify_those_outside(
    live_room, host, listener, commit
):
    away = UserFactory(username="away")
    stranger_blocked_by_host = UserFactory(username="shunned")
    BlockFactory(blocker=host, blocked=stranger_blocked_by_host)
    with commit():
        message = services.message_send(
            actor=host,
            room_id=live_room.pk,
            text="Hi @Listener and @away, not @shunned, nor @nobody_here, nor x@away.",
        )
    assert set(message.mentions.values_list("username", flat=True)) == {"listener", "away"}
    (notification,) = Notification.objects.all()
    assert (notification.recipient, notification.kind, notification.room) == (
        away,
        Notification.Kind.CHAT_MENTION,
        live_room,
    )


def test_the_author_deletes_their_own_message_without_a_log(live_room, listener, listen, commit):
    message = services.message_send(actor=listener, room_id=live_room.pk, text="Oops")
    events = listen(live_room.group_name)
    with commit():
        services.message_delete(actor=listener, room_id=live_room.pk, message_id=message.pk)
    assert _frames(events) == [{"type": "chat.deleted", "id": message.pk}]
    assert not ModerationLog.objects.exists()


def test_a_moderator_deletes_a_message_and_it_is_logged(live_room, host, listener):
    message = services.message_send(actor=listener, room_id=live_room.pk, text="Rude words")
    services.message_delete(actor=host, room_id=live_room.pk, message_id=message.pk)
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target, log.room) == (
        Action.CHAT_DELETE,
        host,
        listener,
        live_room,
    )
    assert "Rude words" in log.note
    with pytest.raises(ApplicationError) as raised:
        services.message_delete(actor=host, room_id=live_room.pk, message_id=message.pk)
    assert raised.value.status == 404


def test_a_chat_mute_keeps_the_person_in_the_room_and_is_logged(
    live_room, host, listener, listen, commit
):
    events = listen(live_room.group_name)
    with commit():
        assert services.chat_mute_set(
            actor=host, room_id=live_room.pk, user_id=listener.pk, muted=True
        )
    assert _frames(events) == [{"type": "chat.muted", "user_id": listener.pk, "muted": True}]
    assert RoomMember.objects.filter(room=live_room, user=listener).exists()
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="Hi")
    assert raised.value.code == "chat_muted"
    assert not services.chat_mute_set(
        actor=host, room_id=live_room.pk, user_id=listener.pk, muted=True
    )
    services.chat_mute_set(actor=host, room_id=live_room.pk, user_id=listener.pk, muted=False)
    services.message_send(actor=listener, room_id=live_room.pk, text="Hi")
    assert list(ModerationLog.objects.order_by("pk").values_list("action", "target")) == [
        (Action.CHAT_MUTE, listener.pk),
        (Action.CHAT_UNMUTE, listener.pk),
    ]


def test_moderators_cannot_be_muted_in_the_chat(live_room, host):
    other = UserFactory()
    member(live_room, other, RoomMember.Role.MODERATOR)
    with pytest.raises(ApplicationError) as raised:
        services.chat_mute_set(actor=other, room_id=live_room.pk, user_id=host.pk, muted=True)
    assert raised.value.status == 403


def test_settings_are_a_numbered_room_update_and_logged(live_room, host, listen, commit):
    events = listen(live_room.group_name)
    with commit():
        services.chat_settings_set(actor=host, room_id=live_room.pk, mode="stage", slow_seconds=10)
    (frame,) = _frames(events)
    live_room.refresh_from_db()
    assert frame == {
        "type": "room.updated",
        "seq": live_room.seq,
        "chat": {"mode": "stage", "slow_seconds": 10},
    }
    log = ModerationLog.objects.get()
    assert (log.action, log.actor) == (Action.CHAT_SETTINGS, host)
    assert "slow mode 10 s" in log.note
    # The same settings again change nothing and send nothing.
    with commit():
        services.chat_settings_set(actor=host, room_id=live_room.pk, mode="stage", slow_seconds=10)
    assert events.messages() == []


@pytest.mark.parametrize(("mode", "slow"), [("loud", 0), ("on", -1), ("on", 3601)])
def test_settings_out_of_range_are_refused(live_room, host, mode, slow):
    with pytest.raises(ApplicationError) as raised:
        services.chat_settings_set(actor=host, room_id=live_room.pk, mode=mode, slow_seconds=slow)
    assert raised.value.status == 422


def test_the_chat_budget_is_the_person_s_in_the_room_not_the_connection_s(
    live_room, listener, settings
):
    """A loop that reopened its socket stored 191 messages in 13 s against a budget of
    8 + 1/s: the budget now holds across sockets and processes (it lives in the cache)."""
    settings.CHAT_BURST, settings.CHAT_PER_SECOND = 3, 0.001
    for number in range(3):
        services.message_send(actor=listener, room_id=live_room.pk, text=f"Line {number}")
    with pytest.raises(ApplicationError) as raised:
        services.message_send(actor=listener, room_id=live_room.pk, text="One too many")
    assert (raised.value.code, raised.value.status) == ("rate_limited", 429)
    assert Message.objects.filter(author=listener).count() == 3
    # Another person, or the same person in another room, has a budget of their own.
    services.message_send(actor=live_room.host, room_id=live_room.pk, text="Still here")


def test_mentions_past_the_author_s_hourly_budget_fold_into_one_notification_each(
    live_room, host, commit, settings
):
    settings.CHAT_MENTIONS_PER_HOUR = 2
    away = [UserFactory(username=f"away{number}") for number in range(3)]
    elsewhere = Room.objects.create(
        host=host, title="Elsewhere", status="live", started_at=timezone.now(), speaker_cap=5
    )
    member(elsewhere, host, RoomMember.Role.MODERATOR)
    for room in (live_room, elsewhere, elsewhere):
        with commit():
            services.message_send(actor=host, room_id=room.pk, text="@away0 @away1 @away2 hi")
    told = Notification.objects.filter(kind=Notification.Kind.CHAT_MENTION)
    # Two within the budget (one room each), then one folded notification per person.
    assert sorted(told.values_list("recipient__username", "subject")) == sorted(
        [
            ("away0", f"room:{live_room.pk}"),
            ("away1", f"room:{live_room.pk}"),
            *((person.username, told.get(recipient=away[2]).subject) for person in away),
        ]
    )
    folded = told.get(recipient=away[2])
    assert folded.subject.startswith(f"mentions:{host.pk}:")
    assert (
        notification_text(folded) == "Host mentioned you in the chat of “Chatty talk” and elsewhere"
    )
