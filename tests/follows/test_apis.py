import pytest

from follows.models import Block, Club, ClubFollow, ClubMembership, Follow
from tests.factories import BlockFactory, ClubFactory, FollowFactory, MembershipFactory, UserFactory
from tests.support.helpers import count_queries, error_of

pytestmark = pytest.mark.django_db

Role, Status = ClubMembership.Role, ClubMembership.Status


def test_follow_then_unfollow(authed_client, user):
    UserFactory(username="maya")
    first = authed_client.post("/api/users/maya/follow/")
    assert (first.status_code, first.json()) == (201, {"following": True})
    assert authed_client.post("/api/users/maya/follow/").status_code == 200
    assert Follow.objects.filter(follower=user).count() == 1
    gone = authed_client.delete("/api/users/maya/follow/")
    assert (gone.status_code, gone.json()) == (200, {"following": False})
    assert not Follow.objects.exists()


def test_following_or_blocking_yourself_is_a_403_as_the_schema_says(authed_client, user):
    """A request with no body the schema calls valid; a rule refuses it (400 was not listed)."""
    for action, code in (("follow", "self_follow"), ("block", "self_block")):
        response = authed_client.post(f"/api/users/{user.username}/{action}/")
        assert (response.status_code, error_of(response)["code"]) == (403, code)


def test_follow_someone_who_blocked_you_is_a_403(authed_client, user):
    maya = UserFactory(username="maya")
    BlockFactory(blocker=maya, blocked=user)
    response = authed_client.post("/api/users/maya/follow/")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert not Follow.objects.exists()


def test_follow_an_unknown_user_is_a_404(authed_client):
    response = authed_client.post("/api/users/ghost/follow/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_follow_needs_sign_in(api_client):
    UserFactory(username="maya")
    assert api_client.post("/api/users/maya/follow/").status_code == 401


def test_followers_and_following_are_paged_lists(authed_client, user):
    maya = UserFactory(username="maya")
    for _ in range(3):
        FollowFactory(followee=maya)
    FollowFactory(follower=user, followee=maya)
    FollowFactory(follower=maya, followee=user)
    followers = authed_client.get("/api/users/maya/followers/?page_size=2").json()
    assert followers["count"] == 4
    assert len(followers["results"]) == 2
    assert followers["next"]
    following = authed_client.get("/api/users/maya/following/").json()
    assert [p["username"] for p in following["results"]] == [user.username]
    assert following["results"][0]["you_follow"] is False


@pytest.mark.parametrize("which", ["followers", "following"])
def test_a_blockers_lists_are_hidden_from_the_person_they_blocked(authed_client, user, which):
    maya = UserFactory(username="maya")
    FollowFactory(follower=maya, followee=UserFactory())
    FollowFactory(follower=UserFactory(), followee=maya)
    BlockFactory(blocker=maya, blocked=user)
    response = authed_client.get(f"/api/users/maya/{which}/")
    assert response.status_code == 403
    assert error_of(response) == {
        "code": "forbidden",
        "message": "@maya blocked you: their followers and who they follow are hidden.",
    }


def test_a_blocked_persons_lists_stay_visible_to_the_blocker(authed_client, user):
    maya = UserFactory(username="maya")
    FollowFactory(follower=UserFactory(), followee=maya)
    BlockFactory(blocker=user, blocked=maya)
    assert authed_client.get("/api/users/maya/followers/").json()["count"] == 1


def test_followers_api_query_count_is_constant(authed_client):
    maya = UserFactory(username="maya")
    FollowFactory(followee=maya)
    small = count_queries(lambda: authed_client.get("/api/users/maya/followers/"))
    for _ in range(20):
        FollowFactory(followee=maya)
    assert count_queries(lambda: authed_client.get("/api/users/maya/followers/")) == small


def test_a_page_past_the_end_is_a_json_404(authed_client):
    UserFactory(username="maya")
    response = authed_client.get("/api/users/maya/followers/?page=9")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_block_and_unblock(authed_client, user):
    maya = UserFactory(username="maya")
    FollowFactory(follower=maya, followee=user)
    assert authed_client.post("/api/users/maya/block/").status_code == 201
    assert Block.objects.filter(blocker=user, blocked=maya).exists()
    assert not Follow.objects.exists()
    assert authed_client.delete("/api/users/maya/block/").json() == {"blocked": False}
    assert not Block.objects.exists()


def test_clubs_create_and_list(authed_client, user):
    response = authed_client.post(
        "/api/clubs/",
        {"name": "Night Owls", "description": "Late", "join_policy": "approval"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "night-owls"
    assert body["your_membership"] == {"status": "active", "role": "admin"}
    assert body["member_count"] == 1
    listed = authed_client.get("/api/clubs/").json()
    assert [c["slug"] for c in listed["results"]] == ["night-owls"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": "n" * 61},
        {"name": "Ok", "join_policy": "secret"},
        {"name": "Ok", "slug": "Not A Slug"},
    ],
)
def test_club_create_refuses_bad_input(authed_client, payload):
    response = authed_client.post("/api/clubs/", payload, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert not Club.objects.exists()


def test_unknown_club_is_a_404(authed_client):
    response = authed_client.get("/api/clubs/nope/")
    assert response.status_code == 404
    assert "/clubs/nope/" in error_of(response)["message"]


def test_join_leave_and_twice(authed_client, user):
    ClubFactory(slug="owls")
    assert authed_client.post("/api/clubs/owls/membership/").json()["status"] == "active"
    twice = authed_client.post("/api/clubs/owls/membership/")
    assert twice.status_code == 409
    assert error_of(twice)["code"] == "conflict"
    assert authed_client.delete("/api/clubs/owls/membership/").status_code == 204
    assert not ClubMembership.objects.filter(user=user).exists()
    assert authed_client.delete("/api/clubs/owls/membership/").status_code == 404


def test_approval_club_join_is_pending_until_an_admin_approves(authed_client, user, api_client):
    club = ClubFactory(slug="circle", join_policy=Club.JoinPolicy.APPROVAL)
    admin = MembershipFactory(club=club, role=Role.ADMIN).user
    assert authed_client.post("/api/clubs/circle/membership/").json()["status"] == "pending"
    members = authed_client.get("/api/clubs/circle/members/").json()
    assert [m["user"]["username"] for m in members["results"]] == [admin.username]
    assert authed_client.get("/api/clubs/circle/members/?status=pending").status_code == 403
    api_client.force_authenticate(admin)
    pending = api_client.get("/api/clubs/circle/members/?status=pending").json()
    assert [m["user"]["username"] for m in pending["results"]] == [user.username]
    approved = api_client.patch(
        f"/api/clubs/circle/members/{user.username}/", {"status": "active"}, format="json"
    )
    assert approved.json()["status"] == "active"


def test_member_api_refuses_bad_input(api_client):
    club = ClubFactory(slug="owls")
    admin = MembershipFactory(club=club, role=Role.ADMIN).user
    member = MembershipFactory(club=club).user
    api_client.force_authenticate(admin)
    url = f"/api/clubs/owls/members/{member.username}/"
    # Nothing to change is a rule (422); a role or status the schema does not list, a 400.
    assert api_client.patch(url, {}, format="json").status_code == 422
    assert api_client.patch(url, {"role": "owner"}, format="json").status_code == 400
    assert api_client.patch(url, {"status": "pending"}, format="json").status_code == 400
    assert api_client.get("/api/clubs/owls/members/?status=banned").status_code == 422
    assert (
        api_client.patch(
            "/api/clubs/owls/members/ghost/", {"role": "leader"}, format="json"
        ).status_code
        == 404
    )


def test_members_can_not_manage_members(authed_client, user):
    club = ClubFactory(slug="owls")
    MembershipFactory(club=club, user=user)
    other = MembershipFactory(club=club)
    response = authed_client.delete(f"/api/clubs/owls/members/{other.user.username}/")
    assert response.status_code == 403
    assert ClubMembership.objects.filter(pk=other.pk).exists()


def test_club_follow(authed_client, user):
    ClubFactory(slug="owls")
    assert authed_client.post("/api/clubs/owls/follow/").status_code == 201
    assert authed_client.get("/api/clubs/owls/").json()["you_follow"] is True
    assert authed_client.delete("/api/clubs/owls/follow/").json() == {"following": False}
    assert not ClubFollow.objects.exists()


def test_club_members_api_query_count_is_constant(authed_client):
    club = ClubFactory(slug="owls")
    MembershipFactory(club=club)
    small = count_queries(lambda: authed_client.get("/api/clubs/owls/members/"))
    for _ in range(20):
        MembershipFactory(club=club)
    assert count_queries(lambda: authed_client.get("/api/clubs/owls/members/")) == small
