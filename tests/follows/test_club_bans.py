"""Club bans: an admin bans someone from the club and all of its rooms."""

import pytest

from core.errors import ApplicationError
from follows import services
from follows.models import Club, ClubBan, ClubFollow, ClubMembership
from moderation.models import ModerationLog
from rooms.models import Room
from rooms.permissions import room_access_to_enter
from rooms.services.lifecycle import room_create
from tests.factories import ClubFactory, ClubFollowFactory, MembershipFactory, UserFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db

Role, Status = ClubMembership.Role, ClubMembership.Status


@pytest.fixture
def club():
    return ClubFactory(slug="owls", name="Night Owls")


@pytest.fixture
def admin_user(club):
    person = UserFactory(username="boss")
    MembershipFactory(club=club, user=person, role=Role.ADMIN)
    return person


@pytest.fixture
def troll(club):
    person = UserFactory(username="troll")
    MembershipFactory(club=club, user=person)
    ClubFollowFactory(club=club, user=person)
    return person


def test_a_ban_ends_membership_and_club_follow_and_is_logged(club, admin_user, troll):
    ban, created = services.club_ban(actor=admin_user, club=club, user=troll, reason="Spam.")
    assert created
    assert (ban.banned_by, ban.reason) == (admin_user, "Spam.")
    assert not ClubMembership.objects.filter(club=club, user=troll).exists()
    assert not ClubFollow.objects.filter(club=club, user=troll).exists()
    log = ModerationLog.objects.get()
    assert (log.action, log.actor, log.target, log.club, log.note) == (
        ModerationLog.Action.CLUB_BAN,
        admin_user,
        troll,
        club,
        "Spam.",
    )


def test_banning_again_changes_nothing(club, admin_user, troll):
    services.club_ban(actor=admin_user, club=club, user=troll)
    _, created = services.club_ban(actor=admin_user, club=club, user=troll)
    assert not created
    assert ClubBan.objects.count() == 1
    assert ModerationLog.objects.count() == 1


def test_people_who_are_not_members_can_be_banned_too(club, admin_user):
    stranger = UserFactory()
    services.club_ban(actor=admin_user, club=club, user=stranger)
    with pytest.raises(ApplicationError):
        services.club_join(user=stranger, club=club)


def test_a_pending_request_goes_with_the_ban(admin_user):
    club = ClubFactory(join_policy=Club.JoinPolicy.APPROVAL)
    MembershipFactory(club=club, user=admin_user, role=Role.ADMIN)
    asking = UserFactory()
    services.club_join(user=asking, club=club)
    services.club_ban(actor=admin_user, club=club, user=asking)
    assert not ClubMembership.objects.filter(club=club, user=asking).exists()


def test_banned_people_cannot_join_or_follow(club, admin_user, troll):
    services.club_ban(actor=admin_user, club=club, user=troll)
    for attempt in (services.club_join, services.club_follow_create):
        with pytest.raises(ApplicationError) as raised:
            attempt(user=troll, club=club)
        assert raised.value.status == 403
        assert raised.value.message == "An admin of Night Owls banned you from this club."


def test_only_admins_ban_and_admins_cannot_be_banned(club, admin_user, troll):
    leader = UserFactory()
    MembershipFactory(club=club, user=leader, role=Role.LEADER)
    with pytest.raises(ApplicationError) as raised:
        services.club_ban(actor=leader, club=club, user=troll)
    assert raised.value.status == 403
    other_admin = UserFactory()
    MembershipFactory(club=club, user=other_admin, role=Role.ADMIN)
    with pytest.raises(ApplicationError) as raised:
        services.club_ban(actor=admin_user, club=club, user=other_admin)
    assert raised.value.status == 403
    with pytest.raises(ApplicationError):
        services.club_ban(actor=admin_user, club=club, user=admin_user)
    assert not ClubBan.objects.exists()


def test_lifting_a_ban_lets_them_join_again_and_is_logged(club, admin_user, troll):
    services.club_ban(actor=admin_user, club=club, user=troll)
    services.club_unban(actor=admin_user, club=club, user=troll)
    assert services.club_join(user=troll, club=club).is_active
    assert ModerationLog.objects.filter(action=ModerationLog.Action.CLUB_UNBAN).exists()
    with pytest.raises(ApplicationError) as raised:
        services.club_unban(actor=admin_user, club=club, user=troll)
    assert raised.value.status == 404


# --- the club page ------------------------------------------------------------------------


def test_admins_ban_from_the_member_menu_and_lift_it_from_the_banned_list(
    client, club, admin_user, troll
):
    client.force_login(admin_user)
    page = client.get("/clubs/owls/").content.decode()
    assert "Ban from club and its rooms" in page
    response = client.post(
        "/clubs/owls/members/troll/", {"action": "ban", "reason": "Trolling."}, follow=True
    )
    html = response.content.decode()
    assert "is banned from Night Owls and all of its rooms." in html
    assert "Banned" in html
    assert "Trolling." in html
    assert ClubBan.objects.filter(club=club, user=troll).exists()
    response = client.post("/clubs/owls/members/troll/", {"action": "unban"}, follow=True)
    assert "may join Night Owls again." in response.content.decode()
    assert not ClubBan.objects.exists()


def test_members_see_no_ban_button_and_cannot_ban(client, club, troll):
    member = UserFactory()
    MembershipFactory(club=club, user=member)
    client.force_login(member)
    assert "Ban from club" not in client.get("/clubs/owls/").content.decode()
    response = client.post("/clubs/owls/members/troll/", {"action": "ban"}, follow=True)
    assert "Only admins of Night Owls can do that." in response.content.decode()
    assert not ClubBan.objects.exists()


def test_a_banned_person_is_told_when_they_try_to_join(client, club, admin_user, troll):
    services.club_ban(actor=admin_user, club=club, user=troll)
    client.force_login(troll)
    response = client.post("/clubs/owls/action/", {"action": "join"}, follow=True)
    assert "banned you from this club" in response.content.decode()


# --- the API ------------------------------------------------------------------------------


def test_ban_list_and_lift_through_the_api(api_client, club, admin_user, troll):
    api_client.force_authenticate(user=admin_user)
    response = api_client.post("/api/clubs/owls/bans/troll/", {"reason": "Spam."}, format="json")
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "troll"
    assert api_client.post("/api/clubs/owls/bans/troll/", format="json").status_code == 200
    listed = api_client.get("/api/clubs/owls/bans/").json()["results"]
    assert [(b["user"]["username"], b["reason"]) for b in listed] == [("troll", "Spam.")]
    assert api_client.delete("/api/clubs/owls/bans/troll/").status_code == 204
    assert api_client.get("/api/clubs/owls/bans/").json()["results"] == []


def test_the_ban_api_is_for_admins(api_client, club, troll):
    api_client.force_authenticate(user=troll)
    response = api_client.post("/api/clubs/owls/bans/troll/", format="json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert api_client.get("/api/clubs/owls/bans/").status_code == 403


def test_banned_people_get_a_403_when_joining_through_the_api(api_client, club, admin_user, troll):
    services.club_ban(actor=admin_user, club=club, user=troll)
    api_client.force_authenticate(user=troll)
    response = api_client.post("/api/clubs/owls/membership/")
    assert response.status_code == 403
    assert "banned" in error_of(response)["message"]


def test_deleting_the_club_keeps_its_banned_out_of_its_live_room(club, admin_user, troll):
    """The room goes on without its club; the bans used to lapse with it."""
    club.owner = admin_user
    club.save(update_fields=["owner"])
    room = room_create(host=admin_user, title="Owl talk", club=club)
    services.club_ban(actor=admin_user, club=club, user=troll)
    services.club_delete(actor=admin_user, club=club)
    room.refresh_from_db()
    assert (room.status, room.club) == (Room.Status.LIVE, None)
    with pytest.raises(ApplicationError):
        room_access_to_enter(user=troll, room=room)
    room_access_to_enter(user=UserFactory(), room=room)  # anyone else, as before
