import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from follows.models import ClubBan, ClubInvite
from follows.services import follow_create
from moderation.models import Report
from notifications.models import ClubMute, PersonMute, Preferences, PushSubscription
from rooms.models import RoomBan, RoomRsvp
from rooms.services.lifecycle import room_create, room_end
from tests.factories import (
    BlockFactory,
    ClubFollowFactory,
    FollowFactory,
    MembershipFactory,
    UserFactory,
)
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def one_of_everything():
    membership = MembershipFactory()
    FollowFactory()
    BlockFactory()
    ClubFollowFactory(club=membership.club)
    room = room_create(host=membership.user, title="Admin sees this")
    member(room, membership.user, "moderator")
    RoomBan.objects.create(room=room, user=UserFactory(), banned_by=membership.user)
    RoomRsvp.objects.create(room=room, user=membership.user)
    room_end(actor=membership.user, room_id=room.pk)
    Report.objects.create(
        reporter=membership.user, reported_user=UserFactory(), reported_room=room, reason="spam"
    )
    ClubBan.objects.create(club=membership.club, user=UserFactory(), banned_by=membership.user)
    fan = UserFactory()
    follow_create(follower=fan, followee=membership.user)
    Preferences.objects.create(user=fan, email_reminders=True)
    PersonMute.objects.create(user=fan, muted=membership.user)
    ClubMute.objects.create(user=fan, club=membership.club)
    ClubInvite.objects.create(club=membership.club, user=fan, invited_by=membership.user)
    PushSubscription.objects.create(
        user=fan, endpoint="https://push.example.com/send/x", p256dh="B" * 87, auth="a" * 22
    )
    return membership


def _registered():
    return [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"accounts", "follows", "rooms", "notifications", "moderation"}
    ]


def test_every_model_is_registered():
    names = {m.__name__ for m in _registered()}
    assert {"User", "Follow", "Block", "Club", "ClubMembership", "ClubFollow"} <= names
    assert {"Report", "ClubBan", "Room", "ModerationLog"} <= names


@pytest.mark.parametrize("model", _registered(), ids=lambda m: m.__name__)
def test_admin_pages_load(staff_client, superuser, one_of_everything, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert staff_client.get(changelist).status_code == 200
    assert staff_client.get(changelist, {"q": "x"}).status_code == 200
    obj = model._default_manager.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert staff_client.get(change).status_code == 200
    request = RequestFactory().get("/")
    request.user = superuser
    if admin.site._registry[model].has_add_permission(request):
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert staff_client.get(add).status_code == 200


def test_user_autocomplete_finds_people(staff_client):
    UserFactory(username="maya_o")
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "follows", "model_name": "follow", "field_name": "follower", "term": "maya"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["maya_o"]
