"""Every socket route, gathered from the apps."""

from rooms.routing import websocket_urlpatterns as room_routes

websocket_urlpatterns = [*room_routes]
