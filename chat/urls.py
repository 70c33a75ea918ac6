from django.urls import path

from chat import apis

api_urlpatterns = [
    path(
        "rooms/<uuid:room_id>/messages/",
        apis.RoomMessagesApi.as_view(),
        name="api-room-messages",
    ),
]
