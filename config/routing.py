"""Every socket route, gathered from the apps."""

from notifications.routing import websocket_urlpatterns as notification_routes
from rooms.routing import websocket_urlpatterns as room_routes

websocket_urlpatterns = [*room_routes, *notification_routes]
