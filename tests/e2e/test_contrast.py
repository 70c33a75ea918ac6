"""Colours people must be able to see, measured in Chromium as drawn: the LIVE tag's text
(WCAG AA, 4.5:1) and the keyboard focus ring against what surrounds it (3:1)."""

import re

import pytest
from channels.db import database_sync_to_async

from rooms.services.lifecycle import room_create
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

# The colour an element is drawn on: its own background, or the nearest ancestor's.
BACKDROP = """
(element) => {
  for (let node = element; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
  }
  return "rgb(255, 255, 255)";
}
"""


def _luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_measured_as_wcag_defines_it():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(119, 119, 119)", "rgb(255, 255, 255)") == pytest.approx(4.48, abs=0.01)


@database_sync_to_async
def _host_with_a_live_room():
    host = UserFactory()
    room_create(host=host, title="Bright enough")
    return host


async def test_the_live_tag_and_the_focus_ring_meet_wcag_aa(server, signed_in):
    host = await _host_with_a_live_room()
    page = await signed_in(host)
    await page.goto(server.url + "/")
    tag = page.locator(".tag--live").first
    text_colour = await tag.evaluate("(element) => getComputedStyle(element).color")
    assert contrast(text_colour, await tag.evaluate(BACKDROP)) >= 4.5

    await page.keyboard.press("Tab")  # the skip link
    await page.keyboard.press("Tab")
    focused = page.locator(":focus-visible")
    assert await focused.count() == 1
    ring = await focused.evaluate(
        "(element) => { const style = getComputedStyle(element);"
        " return [style.outlineStyle, parseFloat(style.outlineWidth), style.outlineColor]; }"
    )
    style, width, colour = ring
    assert style == "solid"
    assert width >= 2
    surround = await focused.evaluate(
        f"(element) => ({BACKDROP})(element.parentElement || element)"
    )
    assert contrast(colour, surround) >= 3
