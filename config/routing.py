"""Every socket route, gathered from the apps."""

websocket_urlpatterns = []
