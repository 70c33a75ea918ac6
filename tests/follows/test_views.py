from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from follows.models import Block, Club, ClubMembership, Follow
from rooms.models import RoomMember
from rooms.services.lifecycle import room_create
from tests.factories import BlockFactory, ClubFactory, MembershipFactory, UserFactory
from tests.rooms.factories import member

pytestmark = pytest.mark.django_db

Role, Status = ClubMembership.Role, ClubMembership.Status


def test_follow_button_follows_and_goes_back(client, user):
    UserFactory(username="maya")
    client.force_login(user)
    response = client.post(
        "/u/maya/relationship/", {"action": "follow", "next": "/u/maya/followers/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/u/maya/followers/"
    assert Follow.objects.filter(follower=user).exists()


def test_follow_button_ignores_an_offsite_next(client, user):
    UserFactory(username="maya")
    client.force_login(user)
    response = client.post(
        "/u/maya/relationship/", {"action": "follow", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/u/maya/"


def test_follow_errors_are_shown(client, user):
    maya = UserFactory(username="maya")
    BlockFactory(blocker=maya, blocked=user)
    client.force_login(user)
    response = client.post("/u/maya/relationship/", {"action": "follow"}, follow=True)
    assert b"You cannot follow maya." in response.content
    assert not Follow.objects.exists()


def test_block_from_the_profile(client, user):
    UserFactory(username="maya")
    client.force_login(user)
    client.post("/u/maya/relationship/", {"action": "block"})
    assert Block.objects.filter(blocker=user).exists()
    html = client.get("/u/maya/").content.decode()
    assert "You blocked @maya" in html
    assert 'value="unblock"' in html


def test_unknown_action_changes_nothing(client, user):
    UserFactory(username="maya")
    client.force_login(user)
    response = client.post("/u/maya/relationship/", {"action": "befriend"}, follow=True)
    assert b"not one this page knows" in response.content
    assert not Follow.objects.exists()


def test_relationship_needs_a_post_and_a_sign_in(client, user):
    UserFactory(username="maya")
    assert client.post("/u/maya/relationship/", {"action": "follow"}).status_code == 302
    client.force_login(user)
    assert client.get("/u/maya/relationship/").status_code == 405
    assert client.post("/u/ghost/relationship/", {"action": "follow"}).status_code == 404


def test_clubs_page_lists_clubs(client):
    ClubFactory(name="Night Owls")
    response = client.get("/clubs/")
    assert response.status_code == 200
    assert b"Night Owls" in response.content


def test_create_club_page(client, user):
    client.force_login(user)
    assert client.get("/clubs/new/").status_code == 200
    response = client.post("/clubs/new/", {"name": "Night Owls", "join_policy": "open"})
    assert response.status_code == 302
    assert response["Location"] == "/clubs/night-owls/"
    assert ClubMembership.objects.get(club__slug="night-owls").role == Role.ADMIN


def test_create_club_page_shows_errors(client, user):
    ClubFactory(slug="owls")
    client.force_login(user)
    response = client.post("/clubs/new/", {"name": "Owls", "slug": "owls", "join_policy": "open"})
    assert response.status_code == 400
    assert b"already exists" in response.content
    assert Club.objects.count() == 1


def test_club_page_join_and_leave(client, user):
    club = ClubFactory(slug="owls", name="Owls")
    client.force_login(user)
    page = client.get("/clubs/owls/").content.decode()
    assert 'value="join"' in page
    joined = client.post("/clubs/owls/action/", {"action": "join"}, follow=True)
    assert b"Welcome to Owls!" in joined.content
    twice = client.post("/clubs/owls/action/", {"action": "join"}, follow=True)
    assert b"already a member" in twice.content
    client.post("/clubs/owls/action/", {"action": "leave"})
    assert not ClubMembership.objects.filter(club=club, user=user).exists()


def test_admin_approves_from_the_club_page(client, user):
    club = ClubFactory(slug="circle", join_policy=Club.JoinPolicy.APPROVAL)
    MembershipFactory(club=club, user=user, role=Role.ADMIN)
    pending = MembershipFactory(club=club, status=Status.PENDING, user=UserFactory(username="sam"))
    client.force_login(user)
    page = client.get("/clubs/circle/").content.decode()
    assert "Waiting for approval" in page
    client.post("/clubs/circle/members/sam/", {"action": "approve"})
    pending.refresh_from_db()
    assert pending.status == Status.ACTIVE


def test_non_admin_cannot_approve(client, user):
    club = ClubFactory(slug="circle", join_policy=Club.JoinPolicy.APPROVAL)
    MembershipFactory(club=club, user=user)
    pending = MembershipFactory(club=club, status=Status.PENDING, user=UserFactory(username="sam"))
    client.force_login(user)
    assert "Waiting for approval" not in client.get("/clubs/circle/").content.decode()
    response = client.post("/clubs/circle/members/sam/", {"action": "approve"}, follow=True)
    assert b"Only admins" in response.content
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_unknown_club_page_is_a_404(client):
    assert client.get("/clubs/nope/").status_code == 404


def test_club_page_lists_the_clubs_live_and_upcoming_rooms(client, user):
    club = ClubFactory(slug="jazz")
    leader = UserFactory()
    MembershipFactory(club=club, user=leader, role=Role.LEADER)
    live = room_create(host=leader, title="Jazz live", club=club)
    room_create(
        host=leader,
        title="Jazz later",
        club=club,
        scheduled_for=timezone.now() + timedelta(days=2),
    )
    room_create(host=leader, title="Not the club's")
    client.force_login(user)
    page = client.get("/clubs/jazz/").content.decode()
    assert f'<a href="/rooms/{live.pk}/">Jazz live</a>' in page
    assert "Jazz later" in page
    assert "Not the club&#x27;s" not in page


def test_club_page_hides_closed_rooms_from_outsiders(client, user):
    club = ClubFactory(slug="jazz")
    leader = UserFactory()
    MembershipFactory(club=club, user=leader, role=Role.ADMIN)
    room_create(host=leader, title="Members only", club=club, visibility="closed")
    client.force_login(user)
    assert b"Members only" not in client.get("/clubs/jazz/").content
    MembershipFactory(club=club, user=user)
    assert b"Members only" in client.get("/clubs/jazz/").content


def test_club_page_query_count_does_not_grow_with_rooms(client, user, settings):
    settings.ROOM_LIVE_PER_PERSON = settings.ROOM_CREATIONS_PER_HOUR = 100
    club = ClubFactory(slug="jazz")
    leader = UserFactory()
    MembershipFactory(club=club, user=leader, role=Role.LEADER)
    client.force_login(user)

    def add_rooms(count):
        for n in range(count):
            room = room_create(host=leader, title=f"Live {n}", club=club)
            member(room, leader, RoomMember.Role.MODERATOR)
            member(room, UserFactory())
            room_create(
                host=leader, title="Later", club=club, scheduled_for=timezone.now() + timedelta(1)
            )

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get("/clubs/jazz/").status_code == 200
        return len(context.captured_queries)

    add_rooms(1)
    few = queries()
    add_rooms(5)
    assert queries() == few


def test_a_club_page_shows_visitors_its_open_rooms_and_a_preview(client, settings):
    settings.SITE_URL = "https://audio.example.com"
    admin = MembershipFactory(role=Role.ADMIN, club__slug="owls", club__name="Owls").user
    club = Club.objects.get(slug="owls")
    room_create(host=admin, club=club, title="Owls live")
    room_create(host=admin, club=club, title="Owls closed", visibility="closed")
    response = client.get("/clubs/owls/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Owls live" in page
    assert "Owls closed" not in page
    assert '<meta property="og:title" content="Owls">' in page
    assert '<meta property="og:description" content="A club for testing.">' in page
    assert '<meta property="og:url" content="https://audio.example.com/clubs/owls/">' in page
    assert "Sign in to join" in page
