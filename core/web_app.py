"""The web app manifest: what a phone needs to install Roundtable to its home screen (name,
colours, icons, where it opens). Served by a view, not as a static file, because the icons'
addresses carry the static files' hashes."""

from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME_COLOUR = "#2b7a5b"  # the logo's green, as the header's theme-color says
BACKGROUND_COLOUR = "#f6f4ee"  # the pages' background, shown while the app opens


@require_safe
@cache_control(public=True, max_age=86400)
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"img/icon-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    return JsonResponse(
        {
            "name": "Roundtable",
            "short_name": "Roundtable",
            "description": "Live audio rooms: talk, listen, and hear the replays.",
            "id": "/",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "icons": icons,
        },
        content_type="application/manifest+json",
    )
