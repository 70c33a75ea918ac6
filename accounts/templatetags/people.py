"""Template helpers for showing people: avatars with a coloured initial as a fallback."""

import zlib

from django import template
from django.utils.html import format_html

register = template.Library()

PALETTE_SIZE = 8
SIZES = {"sm": 32, "md": 48, "lg": 96}


@register.simple_tag
def avatar(user, size="md"):
    """An <img> of the person's picture, or their initial on a colour of their own."""
    pixels = SIZES.get(size, SIZES["md"])
    if user.avatar:
        return format_html(
            '<img class="avatar avatar-{}" src="{}" alt="" width="{}" height="{}" loading="lazy">',
            size,
            user.avatar.url,
            pixels,
            pixels,
        )
    colour = zlib.crc32(user.username.encode()) % PALETTE_SIZE
    initial = (user.display_name or user.username)[:1].upper()
    return format_html(
        '<span class="avatar avatar-initial avatar-{} avatar-c{}" aria-hidden="true">{}</span>',
        size,
        colour,
        initial,
    )
