"""Link previews: the Open Graph and Twitter card tags of pages people share (rooms,
profiles, clubs), with addresses made absolute from SITE_URL, never the request's Host."""

from django import template
from django.conf import settings
from django.templatetags.static import static

register = template.Library()

DEFAULT_IMAGE = "img/share.png"


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@register.inclusion_tag("includes/open_graph.html")
def open_graph(*, title, description, path, person=None) -> dict:
    """The preview of the page at `path`: `person`'s picture when they have one (a square,
    shown small), else the site's wide default image."""
    has_picture = person is not None and bool(person.avatar)
    return {
        "title": title,
        "description": description,
        "url": absolute(path),
        "image": absolute(person.avatar.url if has_picture else static(DEFAULT_IMAGE)),
        "card": "summary" if has_picture else "summary_large_image",
    }
