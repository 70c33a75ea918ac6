"""The chat's history over the API, and reports of a message."""

import pytest
from django.utils import timezone

from chat import services
from moderation.models import Report
from rooms.models import Room
from tests.factories import BlockFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db


def _refused(response) -> tuple[int, str]:
    return response.status_code, error_of(response)["code"]


def _history(client, room, **query):
    return client.get(f"/api/rooms/{room.pk}/messages/", query)


def test_the_newest_page_then_older_pages_by_cursor(authed_client, user, live_room, host, settings):
    settings.CHAT_BURST = 100  # a long chat, written at once
    sent = [
        services.message_send(actor=host, room_id=live_room.pk, text=f"m{n}") for n in range(55)
    ]
    first = _history(authed_client, live_room)
    assert first.status_code == 200
    body = first.json()
    assert [m["text"] for m in body["messages"]] == [f"m{n}" for n in range(5, 55)]
    assert body["has_more"] is True
    assert body["muted"] == []
    older = _history(authed_client, live_room, before=body["messages"][0]["id"]).json()
    assert [m["text"] for m in older["messages"]] == [f"m{n}" for n in range(5)]
    assert older["has_more"] is False
    assert older["messages"][0] == {
        "id": sent[0].pk,
        "user": {"id": host.pk, "username": "host", "display_name": "Host", "avatar_url": None},
        "text": "m0",
        "created": older["messages"][0]["created"],
        "reply_to": None,
        "mentions": [],
    }


def test_deleted_messages_and_those_of_blocked_people_are_left_out(
    authed_client, user, live_room, host, listener
):
    services.message_send(actor=host, room_id=live_room.pk, text="kept")
    gone = services.message_send(actor=host, room_id=live_room.pk, text="gone")
    services.message_delete(actor=host, room_id=live_room.pk, message_id=gone.pk)
    blocked = services.message_send(actor=listener, room_id=live_room.pk, text="from the blocked")
    services.message_send(actor=host, room_id=live_room.pk, text="answer", reply_to=blocked.pk)
    assert _history(authed_client, live_room).json()["messages"][-1]["reply_to"]["text"] == (
        "from the blocked"
    )
    BlockFactory(blocker=user, blocked=listener)
    body = _history(authed_client, live_room).json()
    # Their words are not quoted in a reply to them either.
    assert [(m["text"], m["reply_to"]) for m in body["messages"]] == [
        ("kept", None),
        ("answer", None),
    ]


def test_only_people_allowed_in_the_room_read_its_history(authed_client, user, host):
    closed = Room.objects.create(
        host=host,
        title="Closed",
        visibility=Room.Visibility.CLOSED,
        status=Room.Status.LIVE,
        started_at=timezone.now(),
        speaker_cap=5,
    )
    assert _refused(_history(authed_client, closed)) == (403, "forbidden")
    closed.invitees.add(user)
    assert _history(authed_client, closed).status_code == 200


def test_history_of_an_ended_or_unknown_room_is_not_found(authed_client, live_room):
    Room.objects.filter(pk=live_room.pk).update(status=Room.Status.ENDED, ended_at=timezone.now())
    assert _refused(_history(authed_client, live_room))[0] == 404
    response = authed_client.get("/api/rooms/00000000-0000-0000-0000-000000000000/messages/")
    assert _refused(response)[0] == 404


@pytest.mark.parametrize("before", ["x", "0", "-3", str(2**63)])
def test_a_bad_cursor_is_refused(authed_client, live_room, before):
    assert _refused(_history(authed_client, live_room, before=before)) == (400, "invalid")


def test_history_needs_signing_in(api_client, live_room):
    assert _history(api_client, live_room).status_code in (401, 403)


def test_the_muted_are_listed(authed_client, live_room, host, listener):
    services.chat_mute_set(actor=host, room_id=live_room.pk, user_id=listener.pk, muted=True)
    assert _history(authed_client, live_room).json()["muted"] == [listener.pk]


# --- reports of a message ------------------------------------------------------------------


def _report(client, **body):
    return client.post("/api/reports/", {"reason": "harassment", **body}, format="json")


def test_report_a_message(authed_client, user, live_room, listener):
    message = services.message_send(actor=listener, room_id=live_room.pk, text="You fool")
    response = _report(authed_client, message=message.pk)
    assert response.status_code == 201
    body = response.json()
    assert (body["message"], body["user"]["username"], body["room"]) == (
        message.pk,
        "listener",
        str(live_room.pk),
    )
    report = Report.objects.get()
    assert (report.message, report.reported_user, report.reported_room) == (
        message,
        listener,
        live_room,
    )
    # Again while open: merged. Another message by the same person: a report of its own.
    assert _report(authed_client, message=message.pk).status_code == 200
    other = services.message_send(actor=listener, room_id=live_room.pk, text="Fool again")
    assert _report(authed_client, message=other.pk).status_code == 201
    assert Report.objects.count() == 2


def test_a_message_is_reported_alone(authed_client, live_room, listener):
    message = services.message_send(actor=listener, room_id=live_room.pk, text="Hey")
    response = _report(authed_client, message=message.pk, user="listener")
    assert _refused(response) == (422, "invalid")


def test_messages_one_may_not_read_cannot_be_reported(authed_client, user, live_room, listener):
    own = services.message_send(actor=listener, room_id=live_room.pk, text="Hey")
    assert _refused(_report(authed_client, message=own.pk + 1000)) == (404, "not_found")
    Room.objects.filter(pk=live_room.pk).update(visibility=Room.Visibility.CLOSED)
    assert _refused(_report(authed_client, message=own.pk)) == (404, "not_found")
    assert not Report.objects.exists()


def test_nobody_reports_their_own_message(api_client, live_room, listener):
    api_client.force_authenticate(user=listener)
    message = services.message_send(actor=listener, room_id=live_room.pk, text="Me")
    assert _refused(_report(api_client, message=message.pk)) == (422, "self_report")
    assert not Report.objects.exists()
