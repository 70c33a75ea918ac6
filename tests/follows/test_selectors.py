import pytest
from django.contrib.auth.models import AnonymousUser

from follows.models import ClubMembership
from follows.selectors import club_get, club_list, club_members, followers_list, following_list
from tests.factories import (
    ClubFactory,
    ClubFollowFactory,
    FollowFactory,
    MembershipFactory,
    UserFactory,
)
from tests.support.helpers import count_queries

pytestmark = pytest.mark.django_db


def _render_people(follows, attr):
    return [(getattr(f, attr).username, f.viewer_follows) for f in follows]


@pytest.mark.parametrize(
    ("selector", "attr"), [(followers_list, "follower"), (following_list, "followee")]
)
def test_people_lists_take_one_query_whatever_their_length(user, selector, attr):
    star = UserFactory()

    def add(n):
        for _ in range(n):
            other = UserFactory()
            if attr == "follower":
                FollowFactory(follower=other, followee=star)
            else:
                FollowFactory(follower=star, followee=other)
            FollowFactory(follower=user, followee=other)

    add(2)
    small = count_queries(lambda: _render_people(selector(user=star, viewer=user), attr))
    add(25)
    large = count_queries(lambda: _render_people(selector(user=star, viewer=user), attr))
    assert small == large == 1


def test_followers_list_says_whom_the_viewer_follows(user):
    star, known, unknown = UserFactory(), UserFactory(), UserFactory()
    FollowFactory(follower=known, followee=star)
    FollowFactory(follower=unknown, followee=star)
    FollowFactory(follower=user, followee=known)
    rows = {f.follower.username: f.viewer_follows for f in followers_list(user=star, viewer=user)}
    assert rows == {known.username: True, unknown.username: False}


def test_club_members_list_takes_one_query_and_puts_admins_first():
    club = ClubFactory()
    member = MembershipFactory(club=club)
    admin = MembershipFactory(club=club, role=ClubMembership.Role.ADMIN)
    MembershipFactory(club=club, status=ClubMembership.Status.PENDING)
    small = count_queries(lambda: [m.user.username for m in club_members(club=club)])
    for _ in range(20):
        MembershipFactory(club=club)
    large = count_queries(lambda: [m.user.username for m in club_members(club=club)])
    assert small == large == 1
    names = [m.user.username for m in club_members(club=club)]
    assert names[:2] == [admin.user.username, member.user.username]
    assert len(names) == 22


def test_club_list_counts_and_viewer_state_in_one_query(user):
    clubs = [ClubFactory() for _ in range(3)]
    MembershipFactory(club=clubs[0], user=user, role=ClubMembership.Role.ADMIN)
    MembershipFactory(club=clubs[0])
    ClubFollowFactory(club=clubs[1], user=user)

    def read():
        return [
            (c.slug, c.member_count, c.viewer_status, c.viewer_follows)
            for c in club_list(viewer=user)
        ]

    small = count_queries(read)
    for _ in range(10):
        MembershipFactory(club=ClubFactory())
    assert count_queries(read) == small == 1
    rows = {slug: rest for slug, *rest in read()}
    assert rows[clubs[0].slug] == [2, "active", False]
    assert rows[clubs[1].slug] == [0, None, True]


def test_club_get_for_a_signed_out_viewer():
    club = ClubFactory()
    found = club_get(slug=club.slug.upper(), viewer=AnonymousUser())
    assert found.pk == club.pk
    assert found.viewer_status is None
    assert found.viewer_follows is False
