"""Nobody is named co-host or invitee of a room against their will: never across a block,
and co-hosts only from the host's followers (a co-host's followers hear about the room)."""

import pytest
from rest_framework.test import APIClient

from core.errors import ApplicationError
from notifications.models import Notification
from rooms.models import Room
from rooms.services.lifecycle import room_create
from tests.factories import BlockFactory, FollowFactory, UserFactory, follower_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who_blocked", ["co-host", "host"])
def test_a_co_host_across_a_block_is_refused(host, who_blocked):
    co = follower_of(host, username="theo")
    if who_blocked == "host":
        BlockFactory(blocker=host, blocked=co)
    else:
        BlockFactory(blocker=co, blocked=host)
    with pytest.raises(ApplicationError) as raised:
        room_create(host=host, title="Pair", co_hosts=[co])
    assert (raised.value.status, raised.value.message) == (403, "You cannot make @theo a co-host.")
    assert not Room.objects.exists()


def test_a_co_host_who_does_not_follow_the_host_is_refused_and_their_followers_hear_nothing(
    host,
):
    star = UserFactory(username="star")
    fan = UserFactory()
    FollowFactory(follower=fan, followee=star)
    FollowFactory(follower=host, followee=star)  # following them is not their consent
    with pytest.raises(ApplicationError) as raised:
        room_create(host=host, title="Spam", co_hosts=[star])
    assert raised.value.status == 403
    assert raised.value.message == (
        "@star does not follow you: only people who follow you can co-host your rooms."
    )
    assert not Room.objects.exists()
    assert not Notification.objects.filter(recipient=fan).exists()


@pytest.mark.parametrize("who_blocked", ["invitee", "host"])
def test_an_invitee_across_a_block_is_refused(host, who_blocked):
    guest = UserFactory(username="guest")
    if who_blocked == "host":
        BlockFactory(blocker=host, blocked=guest)
    else:
        BlockFactory(blocker=guest, blocked=host)
    with pytest.raises(ApplicationError, match=r"You cannot invite @guest\."):
        room_create(host=host, title="Closed", visibility=Room.Visibility.CLOSED, invitees=[guest])
    assert not Room.objects.exists()


def test_the_api_and_the_form_say_why(client, host):
    UserFactory(username="star")
    client.force_login(host)
    api = APIClient()
    api.force_authenticate(host)
    response = api.post("/api/rooms/", {"title": "x", "co_hosts": ["star"]}, format="json")
    assert response.status_code == 403
    assert "only people who follow you can co-host" in response.json()["error"]["message"]
    page = client.post(
        "/rooms/new/",
        {"title": "x", "visibility": "open", "start": "now", "co_hosts": "star", "time_zone": ""},
    )
    assert page.status_code == 400
    assert "only people who follow you can co-host" in page.content.decode()
