"""Staff read a reported message in its conversation, and the chat of reported rooms only."""

import pytest

from chat import services
from moderation.services.reports import report_create
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, make_moderator
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def mod_client(client):
    client.force_login(make_moderator(username="mod"))
    return client


def test_a_report_shows_the_message_among_those_around_it(mod_client, live_room, host, listener):
    for n in range(7):
        services.message_send(actor=host, room_id=live_room.pk, text=f"before {n}")
    bad = services.message_send(actor=listener, room_id=live_room.pk, text="<b>nasty</b> words")
    services.message_send(actor=host, room_id=live_room.pk, text="after")
    report, _ = report_create(reporter=host, reason="harassment", message_id=bad.pk)
    # A moderator deleted it since: staff still read what was said.
    services.message_delete(actor=host, room_id=live_room.pk, message_id=bad.pk)
    page = mod_client.get(f"/admin/moderation/report/{report.pk}/change/").content.decode()
    assert 'class="reported-message"' in page
    assert "&lt;b&gt;nasty&lt;/b&gt; words" in page
    assert "<b>nasty</b>" not in page
    assert "(deleted)" in page
    assert "before 2" in page
    assert "after" in page
    assert "before 1" not in page  # five on each side
    assert f"/admin/chat/message/?room__id__exact={live_room.pk}" in page


def test_staff_read_the_chat_of_reported_rooms_only(mod_client, live_room, host, listener):
    quiet_host = UserFactory()
    quiet = room_create(host=quiet_host, title="Quiet")
    member(quiet, quiet_host, "moderator")
    services.message_send(actor=quiet_host, room_id=quiet.pk, text="private talk")
    message = services.message_send(actor=listener, room_id=live_room.pk, text="reported talk")
    report_create(reporter=host, reason="spam", message_id=message.pk)
    page = mod_client.get("/admin/chat/message/").content.decode()
    assert "reported talk" in page
    assert "private talk" not in page
    assert mod_client.get(f"/admin/chat/message/{message.pk}/change/").status_code == 200
    assert mod_client.post(f"/admin/chat/message/{message.pk}/delete/").status_code == 403
