from django.urls import path

from rooms import apis, views

urlpatterns = [
    path("", views.hallway, name="hallway"),
    path("hallway/rooms/", views.hallway_rooms, name="hallway_rooms"),
    path("search/", views.search_page, name="search"),
    path("rooms/new/", views.room_new, name="room_new"),
    path("rooms/<uuid:room_id>/", views.room, name="room"),
    path("rooms/<uuid:room_id>/edit/", views.room_edit, name="room_edit"),
    path("rooms/<uuid:room_id>/cancel/", views.room_cancel, name="room_cancel"),
    path("rooms/<uuid:room_id>/start/", views.room_start, name="room_start"),
    path("rooms/<uuid:room_id>/remind/", views.room_remind, name="room_remind"),
]

api_urlpatterns = [
    path("rooms/", apis.RoomListApi.as_view(), name="api-rooms"),
    path("rooms/<uuid:room_id>/", apis.RoomDetailApi.as_view(), name="api-room"),
    path(
        "rooms/<uuid:room_id>/followed-by-speakers/",
        apis.FollowedBySpeakersApi.as_view(),
        name="api-room-followed-by-speakers",
    ),
    path("rooms/<uuid:room_id>/start/", apis.RoomStartApi.as_view(), name="api-room-start"),
    path("rooms/<uuid:room_id>/end/", apis.RoomEndApi.as_view(), name="api-room-end"),
    path("rooms/<uuid:room_id>/cancel/", apis.RoomCancelApi.as_view(), name="api-room-cancel"),
    path("rooms/<uuid:room_id>/rsvp/", apis.RoomRsvpApi.as_view(), name="api-room-rsvp"),
    path("rooms/<uuid:room_id>/invite/", apis.RoomInviteApi.as_view(), name="api-room-invite"),
    path("hallway/", apis.HallwayApi.as_view(), name="api-hallway"),
    path("topics/", apis.TopicListApi.as_view(), name="api-topics"),
    path("search/", apis.SearchApi.as_view(), name="api-search"),
    path("rtc/ice-servers/", apis.IceServersApi.as_view(), name="api-ice-servers"),
]
