"""People to follow: ranked by how many of the people you follow follow them, then by
popularity; never yourself, people you follow, or anyone blocked either way."""

import pytest

from follows import selectors
from follows.selectors import people_to_pick, user_suggestions
from tests.factories import BlockFactory, FollowFactory, UserFactory

pytestmark = pytest.mark.django_db


def _names(viewer, **kwargs):
    return [person.username for person in user_suggestions(viewer=viewer, **kwargs)]


def _followed_by(person, count):
    for _ in range(count):
        FollowFactory(follower=UserFactory(username=f"fan{UserFactory().pk}"), followee=person)


def test_people_followed_by_those_you_follow_come_first():
    me = UserFactory(username="me")
    friends = [UserFactory(username=f"friend{i}") for i in range(3)]
    for friend in friends:
        FollowFactory(follower=me, followee=friend)
    two_friends = UserFactory(username="two")
    one_friend = UserFactory(username="one")
    popular = UserFactory(username="popular")
    _followed_by(popular, 5)
    FollowFactory(follower=friends[0], followee=two_friends)
    FollowFactory(follower=friends[1], followee=two_friends)
    FollowFactory(follower=friends[2], followee=one_friend)
    assert _names(me, limit=3) == ["two", "one", "popular"]
    assert user_suggestions(viewer=me)[0].followed_by_yours == 2


def test_without_a_graph_it_falls_back_to_popular_people():
    me = UserFactory(username="me")
    quiet, loud = UserFactory(username="quiet"), UserFactory(username="loud")
    _followed_by(loud, 3)
    _followed_by(quiet, 1)
    assert _names(me)[:2] == ["loud", "quiet"]


def test_leaves_out_yourself_people_you_follow_and_blocks_either_way():
    me = UserFactory(username="me")
    friend = UserFactory(username="friend")
    FollowFactory(follower=me, followee=friend)
    blocked, blocker = UserFactory(username="blocked"), UserFactory(username="blocker")
    BlockFactory(blocker=me, blocked=blocked)
    BlockFactory(blocker=blocker, blocked=me)
    for person in (me, blocked, blocker):
        FollowFactory(follower=friend, followee=person)
    UserFactory(username="staff", is_staff=True)
    names = _names(me, limit=50)
    assert not {"me", "friend", "blocked", "blocker", "staff"} & set(names)


def test_one_query_however_many_people(django_assert_num_queries):
    me = UserFactory()
    friend = UserFactory()
    FollowFactory(follower=me, followee=friend)
    for _ in range(8):
        FollowFactory(follower=friend, followee=UserFactory())
    # The most followed people are counted once for everyone, then kept for a while.
    with django_assert_num_queries(2):
        list(user_suggestions(viewer=me))
    with django_assert_num_queries(1):
        people = list(user_suggestions(viewer=me))
        _ = [(p.username, p.followed_by_yours, p.follower_count, p.you_follow) for p in people]
    assert len(people) == 6


def test_suggestions_rank_a_few_candidates_not_everyone(settings, monkeypatch):
    """The graph's nearest people and the most followed are found without counting anyone
    else's followers: someone neither near, nor among the most followed, nor among the
    newest is not suggested."""
    monkeypatch.setattr(selectors, "SUGGESTION_CANDIDATES", 2)
    me = UserFactory(username="me")
    friend = UserFactory(username="friend")
    FollowFactory(follower=me, followee=friend)
    far = UserFactory(username="far")  # one follower, not near, not among the newest
    _followed_by(far, 1)
    star = UserFactory(username="star")
    _followed_by(star, 3)
    near = UserFactory(username="near")
    FollowFactory(follower=friend, followee=near)
    UserFactory(username="newest")
    names = _names(me, limit=50)
    assert names[:2] == ["near", "star"]
    assert "newest" in names
    assert "far" not in names


def test_the_hallway_says_why(client):
    me = UserFactory()
    friend = UserFactory()
    FollowFactory(follower=me, followee=friend)
    FollowFactory(follower=friend, followee=UserFactory(username="suggested"))
    client.force_login(me)
    html = client.get("/").content.decode()
    assert "Followed by 1 person you follow" in html


def test_a_picker_offers_the_people_near_you_and_a_room_s_picker_only_your_followers():
    me = UserFactory(username="me")
    fan, followed, both = (UserFactory(username=name) for name in ("fan", "followed", "both"))
    FollowFactory(follower=fan, followee=me)
    FollowFactory(follower=me, followee=followed)
    FollowFactory(follower=both, followee=me)
    FollowFactory(follower=me, followee=both)
    UserFactory(username="stranger")
    assert [p.username for p in people_to_pick(viewer=me)] == ["both", "fan", "followed"]
    assert [p.username for p in people_to_pick(viewer=me, followers_only=True)] == ["both", "fan"]
