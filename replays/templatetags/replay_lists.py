"""Replay lists that other apps' pages show: a profile's or a club's recent replays.

A template tag, so the people and club pages (in follows, below replays) show replays
without their views importing replays."""

from django import template

from replays.formats import clock
from replays.selectors import replays_ready

register = template.Library()


@register.simple_tag(takes_context=True)
def recent_replays(context, *, club=None, person=None) -> list:
    """The newest ready replays of `club`'s rooms or of rooms `person` hosted or spoke in,
    that the viewer may see (someone signed out: the open ones)."""
    viewer = context["request"].user
    return replays_ready(
        viewer=viewer if viewer.is_authenticated else None, club=club, person=person
    )


register.filter("clock", clock)
