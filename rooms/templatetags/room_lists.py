"""Room lists that other apps' pages show: a profile's or a club's current rooms.

A template tag, so the people and club pages (in follows, below rooms) show rooms without
their views importing rooms."""

from django import template

from rooms.selectors import room_list_current

register = template.Library()


@register.simple_tag(takes_context=True)
def current_rooms(context, *, club=None, host=None) -> list:
    """The live and upcoming rooms of `club` or `host` the viewer may see (someone signed
    out: the open ones)."""
    viewer = context["request"].user
    return room_list_current(
        viewer=viewer if viewer.is_authenticated else None, club=club, host=host
    )
