from django.urls import path

from follows import apis, views

urlpatterns = [
    path("u/<str:username>/", views.profile, name="profile"),
    path("u/<str:username>/followers/", views.followers, name="profile_followers"),
    path("u/<str:username>/following/", views.following, name="profile_following"),
    path("u/<str:username>/relationship/", views.relationship, name="relationship"),
    path("clubs/", views.clubs, name="clubs"),
    path("clubs/new/", views.club_new, name="club_new"),
    path("clubs/<slug:slug>/", views.club, name="club"),
    path("clubs/<slug:slug>/action/", views.club_action, name="club_action"),
    path("clubs/<slug:slug>/edit/", views.club_edit, name="club_edit"),
    path("clubs/<slug:slug>/invite/", views.club_invite, name="club_invite"),
    path("clubs/<slug:slug>/owner/", views.club_owner, name="club_owner"),
    path("clubs/<slug:slug>/owner/answer/", views.club_owner_answer, name="club_owner_answer"),
    path("clubs/<slug:slug>/delete/", views.club_delete, name="club_delete"),
    path(
        "clubs/<slug:slug>/members/<str:username>/",
        views.club_member_action,
        name="club_member_action",
    ),
]

api_urlpatterns = [
    path("users/<str:username>/", apis.UserDetailApi.as_view(), name="api-user"),
    path("users/<str:username>/follow/", apis.UserFollowApi.as_view(), name="api-user-follow"),
    path(
        "users/<str:username>/followers/",
        apis.UserFollowersApi.as_view(),
        name="api-user-followers",
    ),
    path(
        "users/<str:username>/following/",
        apis.UserFollowingApi.as_view(),
        name="api-user-following",
    ),
    path("users/<str:username>/block/", apis.UserBlockApi.as_view(), name="api-user-block"),
    path("clubs/", apis.ClubListApi.as_view(), name="api-clubs"),
    path("clubs/<slug:slug>/", apis.ClubDetailApi.as_view(), name="api-club"),
    path(
        "clubs/<slug:slug>/membership/",
        apis.ClubMembershipApi.as_view(),
        name="api-club-membership",
    ),
    path("clubs/<slug:slug>/follow/", apis.ClubFollowApi.as_view(), name="api-club-follow"),
    path("clubs/<slug:slug>/members/", apis.ClubMembersApi.as_view(), name="api-club-members"),
    path("clubs/<slug:slug>/invites/", apis.ClubInvitesApi.as_view(), name="api-club-invites"),
    path(
        "clubs/<slug:slug>/invitation/",
        apis.ClubInvitationApi.as_view(),
        name="api-club-invitation",
    ),
    path("clubs/<slug:slug>/owner/", apis.ClubOwnerApi.as_view(), name="api-club-owner"),
    path(
        "clubs/<slug:slug>/owner/answer/",
        apis.ClubOwnerAnswerApi.as_view(),
        name="api-club-owner-answer",
    ),
    path(
        "clubs/<slug:slug>/members/<str:username>/",
        apis.ClubMemberApi.as_view(),
        name="api-club-member",
    ),
    path("clubs/<slug:slug>/bans/", apis.ClubBansApi.as_view(), name="api-club-bans"),
    path("clubs/<slug:slug>/bans/<str:username>/", apis.ClubBanApi.as_view(), name="api-club-ban"),
]
