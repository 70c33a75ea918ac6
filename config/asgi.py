"""ASGI entry point: Django for HTTP, Channels for the sockets.

Django is set up before anything imports models; the socket routes sit behind origin
validation (ALLOWED_HOSTS) and the session; each consumer finds the person behind its
session in the one trip to a worker thread it makes on connect (realtime.session.socket_user).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from realtime.delivery import serve_sockets_here  # noqa: E402
from realtime.session import SocketSession  # noqa: E402

serve_sockets_here()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            CookieMiddleware(SocketSession(URLRouter(websocket_urlpatterns)))
        ),
    }
)
