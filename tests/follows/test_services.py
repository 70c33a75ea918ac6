import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.errors import ApplicationError
from follows import services
from follows.models import Block, Club, ClubFollow, ClubMembership, Follow
from tests.factories import BlockFactory, ClubFactory, FollowFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Role, Status = ClubMembership.Role, ClubMembership.Status


def test_follow_is_created_once(user):
    other = UserFactory()
    assert services.follow_create(follower=user, followee=other)[1] is True
    assert services.follow_create(follower=user, followee=other)[1] is False
    assert Follow.objects.filter(follower=user, followee=other).count() == 1


def test_following_yourself_is_refused(user):
    with pytest.raises(ApplicationError) as raised:
        services.follow_create(follower=user, followee=user)
    assert raised.value.code == "self_follow"
    assert not Follow.objects.exists()


def test_the_database_refuses_self_follows_and_duplicates(user):
    other = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=user, followee=user)
    Follow.objects.create(follower=user, followee=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=user, followee=other)


def test_you_cannot_follow_someone_who_blocked_you(user):
    other = UserFactory()
    BlockFactory(blocker=other, blocked=user)
    with pytest.raises(ApplicationError) as raised:
        services.follow_create(follower=user, followee=other)
    assert raised.value.status == 403
    assert not Follow.objects.exists()


def test_you_cannot_follow_someone_you_blocked(user):
    other = UserFactory()
    BlockFactory(blocker=user, blocked=other)
    with pytest.raises(ApplicationError) as raised:
        services.follow_create(follower=user, followee=other)
    assert raised.value.code == "blocked"


def test_unfollow(user):
    other = UserFactory()
    FollowFactory(follower=user, followee=other)
    assert services.follow_delete(follower=user, followee=other) is True
    assert services.follow_delete(follower=user, followee=other) is False


def test_blocking_removes_follows_both_ways(user):
    other, bystander = UserFactory(), UserFactory()
    FollowFactory(follower=user, followee=other)
    FollowFactory(follower=other, followee=user)
    FollowFactory(follower=bystander, followee=other)
    services.block_create(blocker=user, blocked=other)
    assert Block.objects.filter(blocker=user, blocked=other).exists()
    assert list(Follow.objects.values_list("follower", "followee")) == [(bystander.pk, other.pk)]


def test_blocking_yourself_is_refused(user):
    with pytest.raises(ApplicationError):
        services.block_create(blocker=user, blocked=user)


def test_unblock(user):
    other = UserFactory()
    BlockFactory(blocker=user, blocked=other)
    assert services.block_delete(blocker=user, blocked=other) is True
    assert not Block.objects.exists()


def test_club_create_makes_the_creator_admin(user):
    club = services.club_create(creator=user, name="Night Owls", description="Late talk")
    assert club.slug == "night-owls"
    membership = ClubMembership.objects.get(club=club)
    assert (membership.user, membership.role, membership.status) == (
        user,
        Role.ADMIN,
        Status.ACTIVE,
    )


def test_club_slugs_stay_unique(user):
    services.club_create(creator=user, name="Night Owls")
    assert services.club_create(creator=user, name="Night  Owls!").slug == "night-owls-2"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 61}, "name"),
        ({"name": "Ok", "slug": "Bad Slug"}, "slug"),
        ({"name": "Ok", "join_policy": "secret"}, "join_policy"),
    ],
)
def test_club_create_refuses_bad_fields(user, kwargs, field):
    with pytest.raises(ValidationError) as raised:
        services.club_create(creator=user, **kwargs)
    assert field in raised.value.message_dict
    assert not Club.objects.exists()


def test_club_create_refuses_a_taken_slug(user):
    ClubFactory(slug="owls")
    with pytest.raises(ValidationError) as raised:
        services.club_create(creator=user, name="Owls", slug="owls")
    assert "slug" in raised.value.message_dict


def test_joining_an_open_club_is_immediate(user):
    club = ClubFactory()
    assert services.club_join(user=user, club=club).status == Status.ACTIVE


def test_joining_an_approval_club_waits_for_an_admin(user):
    club = ClubFactory(join_policy=Club.JoinPolicy.APPROVAL)
    assert services.club_join(user=user, club=club).status == Status.PENDING


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.PENDING])
def test_joining_twice_is_a_conflict(user, status):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, status=status)
    with pytest.raises(ApplicationError) as raised:
        services.club_join(user=user, club=club)
    assert raised.value.status == 409
    assert ClubMembership.objects.filter(club=club, user=user).count() == 1


def test_leaving_a_club(user):
    club = ClubFactory()
    MembershipFactory(club=club, user=user)
    services.club_leave(user=user, club=club)
    assert not ClubMembership.objects.filter(user=user).exists()


def test_leaving_a_club_you_are_not_in(user):
    with pytest.raises(ApplicationError) as raised:
        services.club_leave(user=user, club=ClubFactory())
    assert raised.value.status == 404


def test_the_last_admin_hands_over_before_leaving(user):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, role=Role.ADMIN)
    MembershipFactory(club=club)
    with pytest.raises(ApplicationError) as raised:
        services.club_leave(user=user, club=club)
    assert raised.value.status == 409
    assert ClubMembership.objects.filter(club=club, user=user).exists()


def test_an_admin_approves_a_pending_member(user):
    club = ClubFactory(join_policy=Club.JoinPolicy.APPROVAL)
    MembershipFactory(club=club, user=user, role=Role.ADMIN)
    pending = MembershipFactory(club=club, status=Status.PENDING)
    services.club_membership_approve(actor=user, club=club, user=pending.user)
    pending.refresh_from_db()
    assert pending.status == Status.ACTIVE


@pytest.mark.parametrize("role", [Role.LEADER, Role.MEMBER])
def test_only_admins_approve(user, role):
    club = ClubFactory(join_policy=Club.JoinPolicy.APPROVAL)
    MembershipFactory(club=club, user=user, role=role)
    pending = MembershipFactory(club=club, status=Status.PENDING)
    with pytest.raises(ApplicationError) as raised:
        services.club_membership_approve(actor=user, club=club, user=pending.user)
    assert raised.value.status == 403
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_a_pending_admin_has_no_admin_rights(user):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, role=Role.ADMIN, status=Status.PENDING)
    target = MembershipFactory(club=club)
    with pytest.raises(ApplicationError):
        services.club_member_remove(actor=user, club=club, user=target.user)


def test_admin_sets_roles_but_a_club_keeps_an_admin(user):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, role=Role.ADMIN)
    member = MembershipFactory(club=club)
    services.club_member_set_role(actor=user, club=club, user=member.user, role=Role.LEADER)
    member.refresh_from_db()
    assert member.role == Role.LEADER
    with pytest.raises(ApplicationError):
        services.club_member_set_role(actor=user, club=club, user=user, role=Role.MEMBER)
    with pytest.raises(ApplicationError):
        services.club_member_set_role(actor=user, club=club, user=member.user, role="owner")


def test_admin_removes_a_member(user):
    club = ClubFactory()
    MembershipFactory(club=club, user=user, role=Role.ADMIN)
    member = MembershipFactory(club=club)
    services.club_member_remove(actor=user, club=club, user=member.user)
    assert not ClubMembership.objects.filter(pk=member.pk).exists()


def test_club_follow_and_unfollow(user):
    club = ClubFactory()
    assert services.club_follow_create(user=user, club=club)[1] is True
    assert services.club_follow_create(user=user, club=club)[1] is False
    assert ClubFollow.objects.count() == 1
    assert services.club_follow_delete(user=user, club=club) is True
    assert not ClubFollow.objects.exists()
