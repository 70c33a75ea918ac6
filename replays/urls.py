from django.urls import path, re_path

from replays import apis, views

urlpatterns = [
    re_path(
        r"^rooms/(?P<room_id>[0-9a-f-]{36})/replay/audio\.(?P<extension>ogg|m4a)$",
        views.replay_audio,
        name="replay-audio",
    ),
    path("rooms/<uuid:room_id>/replay/", views.replay_page, name="replay"),
    path(
        "rooms/<uuid:room_id>/replay/transcript.vtt",
        views.replay_transcript_vtt,
        name="replay-transcript-vtt",
    ),
]

api_urlpatterns = [
    path("rooms/<uuid:room_id>/replay/", apis.ReplayApi.as_view(), name="api-room-replay"),
    path(
        "rooms/<uuid:room_id>/transcript/",
        apis.TranscriptApi.as_view(),
        name="api-room-transcript",
    ),
]
