"""Running a club: editing it, unique names, invitations answered, roles, handing it over
and deleting it (its scheduled rooms cancelled, the people waiting told)."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from core.errors import ApplicationError
from core.text import tidy_name
from follows import services
from follows.models import Block, Club, ClubInvite, ClubMembership
from notifications.models import Notification
from rooms.models import Room, RoomRsvp
from rooms.services.lifecycle import room_create
from tests.factories import BlockFactory, MembershipFactory, UserFactory
from tests.support.helpers import error_of

pytestmark = pytest.mark.django_db
Role = ClubMembership.Role


@pytest.fixture
def owner():
    return UserFactory(username="owner")


@pytest.fixture
def club(owner):
    return services.club_create(creator=owner, name="Night Owls")


def _member(club, role=Role.MEMBER, **fields):
    return MembershipFactory(club=club, role=role, user=UserFactory(**fields)).user


def _png() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(data, format="PNG")
    return SimpleUploadedFile("owl.png", data.getvalue(), content_type="image/png")


# Services: rights per role


def test_the_creator_owns_the_club(club, owner):
    assert club.owner == owner


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.ADMIN, True), (Role.LEADER, False), (Role.MEMBER, False)]
)
def test_admins_edit_the_club(club, role, allowed):
    actor = _member(club, role)
    if not allowed:
        with pytest.raises(ApplicationError) as error:
            services.club_update(actor=actor, club=club, name="Mine")
        assert error.value.status == 403
        return
    services.club_update(
        actor=actor, club=club, name=" Early Owls ", description="Dawn", join_policy="approval"
    )
    club.refresh_from_db()
    assert (club.name, club.description, club.join_policy) == ("Early Owls", "Dawn", "approval")


def test_a_picture_is_stored_as_a_square_png_and_removed(club, owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.club_update(actor=owner, club=club, picture=_png())
    club.refresh_from_db()
    with Image.open(club.picture.path) as image:
        assert (image.format, image.size[0] == image.size[1]) == ("PNG", True)
    services.club_update(actor=owner, club=club, picture=None)
    club.refresh_from_db()
    assert not club.picture


@pytest.mark.parametrize(
    "name",
    [
        "night owls",
        "NIGHT OWLS",
        " Night Owls ",
        "Night \u041ewls",  # a Cyrillic O
        "\uff2eight Owls",  # a fullwidth N
        "Night\u00a0Owls",  # a no-break space
        "Nig\u200bht Owls",  # a zero-width space
        "Night\u202e Owls",  # a right-to-left override
        "N\u0456ght Owls",  # a Cyrillic i
    ],
)
def test_names_are_unique_whatever_the_case_or_look_alike_letters(club, owner, name):
    with pytest.raises(ApplicationError) as error:
        services.club_create(creator=owner, name=name)
    assert error.value.message == "A club named " + tidy_name(name) + " already exists."
    other = services.club_create(creator=owner, name="Larks")
    with pytest.raises(ApplicationError, match="already exists"):
        services.club_update(actor=owner, club=other, name=name)
    # Its own name in another case is fine.
    services.club_update(actor=owner, club=club, name="NIGHT owls")


def test_a_name_is_stored_without_what_does_not_show(owner):
    club = services.club_create(creator=owner, name=" Larks\u200b\u00a0of\u202e  the Dawn ")
    assert club.name == "Larks of the Dawn"
    # Look-alike letters stay as written: the key compares them, it is never shown.
    assert services.club_create(creator=owner, name="\u0421rows").name == "\u0421rows"


def test_the_database_refuses_a_name_in_another_case(club):
    """The constraint itself (on the name's key), on SQLite and on Postgres."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Club.objects.create(slug="other", name="nIGHT oWLS")


def test_only_the_owner_offers_the_club_and_it_passes_when_accepted(club, owner):
    admin, member = _member(club, Role.ADMIN), _member(club)
    with pytest.raises(ApplicationError) as error:
        services.club_ownership_offer(actor=admin, club=club, user=member)
    assert error.value.status == 403
    services.club_ownership_offer(actor=owner, club=club, user=member)
    club.refresh_from_db()
    # Nobody owns a club without saying yes: until then it is the owner's.
    assert (club.owner, club.owner_offered_to) == (owner, member)
    with pytest.raises(ApplicationError) as error:
        services.club_ownership_answer(user=admin, club=club, accept=True)
    assert error.value.status == 409
    services.club_ownership_answer(user=member, club=club, accept=True)
    club.refresh_from_db()
    assert (club.owner, club.owner_offered_to) == (member, None)
    assert ClubMembership.objects.get(club=club, user=member).role == Role.ADMIN
    assert ClubMembership.objects.get(club=club, user=owner).role == Role.ADMIN


def test_an_offer_declined_or_withdrawn_leaves_the_club_with_its_owner(club, owner):
    member, other = _member(club), _member(club)
    services.club_ownership_offer(actor=owner, club=club, user=member)
    services.club_ownership_answer(user=member, club=club, accept=False)
    club.refresh_from_db()
    assert (club.owner, club.owner_offered_to) == (owner, None)
    services.club_ownership_offer(actor=owner, club=club, user=other)
    services.club_ownership_offer(actor=owner, club=club, user=None)
    with pytest.raises(ApplicationError):
        services.club_ownership_answer(user=other, club=club, accept=True)
    club.refresh_from_db()
    assert club.owner == owner


@pytest.mark.parametrize("who", ["member", "owner"])
def test_a_club_does_not_pass_across_a_block(club, owner, who):
    """A club could be handed to someone who blocked its owner, without their consent."""
    member = _member(club)
    blocker, blocked = (member, owner) if who == "member" else (owner, member)
    BlockFactory(blocker=blocker, blocked=blocked)
    with pytest.raises(ApplicationError) as error:
        services.club_ownership_offer(actor=owner, club=club, user=member)
    assert error.value.status == 403
    # Nor when the block came after the offer.
    Block.objects.all().delete()
    services.club_ownership_offer(actor=owner, club=club, user=member)
    BlockFactory(blocker=blocker, blocked=blocked)
    with pytest.raises(ApplicationError) as error:
        services.club_ownership_answer(user=member, club=club, accept=True)
    assert error.value.status == 403
    club.refresh_from_db()
    assert club.owner == owner


def test_ownership_goes_only_to_active_members(club, owner):
    stranger, member = UserFactory(), _member(club)
    with pytest.raises(ApplicationError) as error:
        services.club_ownership_offer(actor=owner, club=club, user=stranger)
    assert error.value.status == 409
    # A member who left since the offer cannot take it up.
    services.club_ownership_offer(actor=owner, club=club, user=member)
    services.club_leave(user=member, club=club)
    with pytest.raises(ApplicationError) as error:
        services.club_ownership_answer(user=member, club=club, accept=True)
    assert error.value.status == 409


def test_admins_change_roles_but_never_the_owners(club, owner):
    admin, member = _member(club, Role.ADMIN), _member(club)
    services.club_member_set_role(actor=admin, club=club, user=member, role=Role.LEADER)
    assert ClubMembership.objects.get(club=club, user=member).role == Role.LEADER
    for change in (
        lambda: services.club_member_set_role(actor=admin, club=club, user=owner, role="member"),
        lambda: services.club_member_remove(actor=admin, club=club, user=owner),
        lambda: services.club_ban(actor=admin, club=club, user=owner),
    ):
        with pytest.raises(ApplicationError, match="owns Night Owls"):
            change()
    with pytest.raises(ApplicationError) as error:
        services.club_member_set_role(actor=member, club=club, user=admin, role="member")
    assert error.value.status == 403


def test_the_owner_hands_over_before_leaving(club, owner):
    _member(club)
    with pytest.raises(ApplicationError, match="hand it over"):
        services.club_leave(user=owner, club=club)


def test_an_invitation_is_notified_and_accepted_or_declined(club, owner):
    club.join_policy = "approval"
    club.save()
    theo, priya = UserFactory(username="theo"), UserFactory(username="priya")
    for person in (theo, priya):
        services.club_invite_create(actor=owner, club=club, user=person)
        assert Notification.objects.filter(recipient=person, kind="club_invite", club=club).exists()
    assert services.club_join(user=theo, club=club).is_active
    services.club_invite_decline(user=priya, club=club)
    assert not ClubInvite.objects.exists()
    with pytest.raises(ApplicationError) as error:
        services.club_invite_decline(user=priya, club=club)
    assert error.value.status == 404


def test_only_the_owner_deletes(club):
    admin = _member(club, Role.ADMIN)
    with pytest.raises(ApplicationError) as error:
        services.club_delete(actor=admin, club=club)
    assert error.value.status == 403
    assert Club.objects.filter(pk=club.pk).exists()


def test_deleting_cancels_its_scheduled_rooms_and_tells_who_waits(
    club, owner, django_capture_on_commit_callbacks
):
    asked = UserFactory(username="asked")
    scheduled = room_create(
        host=owner, title="Owl talk", club=club, scheduled_for=timezone.now() + timedelta(days=1)
    )
    RoomRsvp.objects.create(room=scheduled, user=asked)
    live = room_create(host=owner, title="Now", club=club)
    with django_capture_on_commit_callbacks(execute=True):
        services.club_delete(actor=owner, club=club)
    assert not Club.objects.filter(pk=club.pk).exists()
    scheduled.refresh_from_db()
    live.refresh_from_db()
    assert scheduled.is_cancelled
    assert scheduled.club is None
    assert live.status == Room.Status.LIVE
    assert Notification.objects.filter(recipient=asked, kind="room_cancelled").exists()


# API


def test_patch_and_the_name_taken_error(authed_client, user):
    mine = services.club_create(creator=user, name="Larks")
    services.club_create(creator=UserFactory(), name="Night Owls")
    response = authed_client.patch(
        f"/api/clubs/{mine.slug}/", {"description": "Up early"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["description"] == "Up early"
    assert response.json()["owner"]["username"] == user.username
    response = authed_client.patch(
        f"/api/clubs/{mine.slug}/", {"name": "night OWLS"}, format="json"
    )
    # A conflict with what exists, which a schema cannot know beforehand: 409, not 400.
    assert response.status_code == 409
    assert error_of(response) == {
        "code": "name_taken",
        "message": "A club named night OWLS already exists.",
    }
    response = authed_client.post("/api/clubs/", {"name": "NIGHT OWLS"}, format="json")
    assert (response.status_code, error_of(response)["code"]) == (409, "name_taken")
    # From a form (an upload), an empty name is refused, as in JSON, not taken as no change.
    response = authed_client.patch(
        f"/api/clubs/{mine.slug}/", {"name": "", "description": "x"}, format="multipart"
    )
    assert (response.status_code, error_of(response)["fields"]) == (
        400,
        {"name": ["This field may not be blank."]},
    )
    response = authed_client.patch(
        f"/api/clubs/{mine.slug}/", {"join_policy": "never"}, format="json"
    )
    assert "join_policy" in error_of(response)["fields"]


def test_picture_over_the_api(authed_client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine = services.club_create(creator=user, name="Larks")
    response = authed_client.patch(
        f"/api/clubs/{mine.slug}/", {"picture": _png()}, format="multipart"
    )
    assert response.json()["picture_url"].endswith(".png")
    not_a_picture = SimpleUploadedFile("x.png", b"hello", content_type="image/png")
    response = authed_client.patch(
        f"/api/clubs/{mine.slug}/", {"picture": not_a_picture}, format="multipart"
    )
    assert response.status_code == 422


def test_owner_transfer_invitation_decline_and_delete_over_the_api(authed_client, user):
    mine = services.club_create(creator=user, name="Larks")
    theo = _member(mine, username="theo")
    assert (
        authed_client.post(
            f"/api/clubs/{mine.slug}/owner/", {"username": "nobody"}, format="json"
        ).status_code
        == 404
    )
    response = authed_client.post(
        f"/api/clubs/{mine.slug}/owner/", {"username": "theo"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["owner"]["username"], body["ownership_offered_to"]["username"]) == (
        user.username,
        "theo",
    )
    theo_client = APIClient()
    theo_client.force_authenticate(theo)
    answer = f"/api/clubs/{mine.slug}/owner/answer/"
    assert theo_client.post(answer, {"accept": "maybe"}, format="json").status_code == 400
    accepted = theo_client.post(answer, {"accept": True}, format="json").json()
    assert (accepted["owner"]["username"], accepted["ownership_offered_to"]) == ("theo", None)
    assert authed_client.delete(f"/api/clubs/{mine.slug}/").status_code == 403
    other = services.club_create(creator=theo, name="Wrens")
    services.club_invite_create(actor=theo, club=other, user=user)
    assert authed_client.get(f"/api/clubs/{other.slug}/").json()["you_are_invited"] is True
    assert authed_client.delete(f"/api/clubs/{other.slug}/invitation/").status_code == 204
    assert authed_client.get(f"/api/clubs/{other.slug}/").json()["you_are_invited"] is False


def test_the_schema_has_the_new_operations(authed_client):
    paths = authed_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"patch", "delete"} <= set(paths["/api/clubs/{slug}/"])
    assert "post" in paths["/api/clubs/{slug}/owner/"]
    assert "delete" in paths["/api/clubs/{slug}/invitation/"]


# Pages


def test_admins_see_invite_and_edit_links(client, club, owner):
    client.force_login(owner)
    page = client.get(club.get_absolute_url()).content.decode()
    assert f"/clubs/{club.slug}/invite/" in page
    assert f"/clubs/{club.slug}/edit/" in page
    client.force_login(_member(club))
    page = client.get(club.get_absolute_url()).content.decode()
    assert f"/clubs/{club.slug}/invite/" not in page
    assert client.get(f"/clubs/{club.slug}/edit/").status_code == 403


def test_the_edit_form_shows_the_name_taken_error(client, club, owner):
    services.club_create(creator=owner, name="Larks")
    client.force_login(owner)
    response = client.post(
        f"/clubs/{club.slug}/edit/", {"name": "LARKS", "description": "", "join_policy": "open"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["A club named LARKS already exists."]
    response = client.post("/clubs/new/", {"name": "larks", "join_policy": "open"})
    assert response.context["form"].errors["name"] == ["A club named larks already exists."]


def test_inviting_from_the_page_and_answering_from_the_inbox(client, club, owner):
    theo = UserFactory(username="theo")
    client.force_login(owner)
    response = client.post(f"/clubs/{club.slug}/invite/", {"people": "@theo, ghost"})
    assert response.status_code == 400
    assert "There is no one called @ghost here." in response.content.decode()
    response = client.post(f"/clubs/{club.slug}/invite/", {"people": "theo"})
    assert response.status_code == 302
    client.force_login(theo)
    inbox = client.get("/notifications/").content.decode()
    assert "Accept the invitation to Night Owls" in inbox
    client.post(f"/clubs/{club.slug}/action/", {"action": "join"})
    assert ClubMembership.objects.get(club=club, user=theo).is_active


def test_deleting_asks_for_the_name(client, club, owner):
    client.force_login(owner)
    assert client.get(f"/clubs/{club.slug}/delete/").status_code == 200
    response = client.post(f"/clubs/{club.slug}/delete/", {"confirm_name": "Owls"})
    assert response.status_code == 400
    assert Club.objects.filter(pk=club.pk).exists()
    response = client.post(f"/clubs/{club.slug}/delete/", {"confirm_name": "night owls"})
    assert response.status_code == 302
    assert not Club.objects.filter(pk=club.pk).exists()


def test_handing_over_from_the_page(client, club, owner):
    theo = _member(club, username="theo")
    client.force_login(owner)
    client.post(f"/clubs/{club.slug}/owner/", {"username": "theo"})
    assert "Withdraw the offer" in client.get(f"/clubs/{club.slug}/edit/").content.decode()
    client.force_login(theo)
    page = client.get(f"/clubs/{club.slug}/").content.decode()
    assert "offers you the club" in page
    client.post(f"/clubs/{club.slug}/owner/answer/", {"answer": "accept"})
    club.refresh_from_db()
    assert club.owner == theo
    client.force_login(_member(club, Role.ADMIN))
    assert client.post(f"/clubs/{club.slug}/owner/", {"username": "theo"}).status_code == 403
