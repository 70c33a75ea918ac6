from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import api_urlpatterns as accounts_api
from chat.urls import api_urlpatterns as chat_api
from core import error_views, web_app
from follows.urls import api_urlpatterns as follows_api
from moderation.urls import api_urlpatterns as moderation_api
from notifications.urls import api_urlpatterns as notifications_api
from replays.urls import api_urlpatterns as replays_api
from rooms.urls import api_urlpatterns as rooms_api

api_urlpatterns = [
    *accounts_api,
    *follows_api,
    *rooms_api,
    *chat_api,
    *notifications_api,
    *replays_api,
    *moderation_api,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: nothing inline (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other /api/ address answers the JSON error, with DEBUG on too (where Django
    # would otherwise show its HTML debug page).
    re_path(r"", error_views.api_not_found),
]

urlpatterns = [
    path("manifest.webmanifest", web_app.manifest, name="web-app-manifest"),
    path("", include("rooms.urls")),
    path("", include("accounts.urls")),
    path("", include("follows.urls")),
    path("", include("notifications.urls")),
    path("", include("replays.urls")),
    path("", include("moderation.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
]

if settings.DEBUG:
    # Uploaded pictures; a deployment serves MEDIA_ROOT from its web server instead.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "core.error_views.bad_request"
handler404 = "core.error_views.page_not_found"
handler500 = "core.error_views.server_error"
