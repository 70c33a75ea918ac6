"""The room's chat in real browsers: two people chat, a moderator deletes a message and mutes
someone in the chat, a listener reports a message and staff find it in admin."""

import pytest
from channels.db import database_sync_to_async

from moderation.models import Report
from rooms.services.lifecycle import room_create
from tests.factories import UserFactory, make_moderator
from tests.support.pages import join

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

HOSTILE = 'See https://example.com/a?b=1, <img src=x onerror="window.hacked=1"> javascript:alert(1)'


@pytest.fixture
def cast():
    host = UserFactory(username="hana", display_name="Hana Host")
    ann = UserFactory(username="ann", display_name="Ann Listener")
    leo = UserFactory(username="leo", display_name="Leo Listener")
    staff = make_moderator(username="staffer")
    room = room_create(host=host, title="Chatty hall")
    return room, host, ann, leo, staff


def _message(page, text):
    return page.locator(".chat-message", has_text=text)


async def _say(page, text):
    await page.fill("[data-chat-input]", text)
    await page.press("[data-chat-input]", "Enter")


@database_sync_to_async
def _report_about(text):
    return Report.objects.select_related("message").filter(message__text=text).first()


async def test_chat_moderated_and_reported(server, signed_in, cast):
    room, host, ann, leo, staff = cast
    host_page = await join(signed_in, server, room, host)
    ann_page = await join(signed_in, server, room, ann)

    await _say(ann_page, HOSTILE)
    seen = _message(host_page, "example.com")
    await seen.wait_for()
    link = seen.locator("a.chat-link")
    assert await link.get_attribute("href") == "https://example.com/a?b=1"
    assert await link.get_attribute("rel") == "noopener nofollow ugc"
    assert await link.get_attribute("target") == "_blank"
    # The markup arrives as text; nothing else in the message became a link or an element.
    assert await seen.locator("img").count() == 0
    assert await seen.locator("a").count() == 1
    assert "<img src=x" in await seen.locator(".chat-message__text").inner_text()
    assert await host_page.evaluate("window.hacked") is None

    # A link shows the host it goes to, not a `user@` that could pass for another host; a
    # direction override in someone's text leaves the name and the link as they are.
    await _say(ann_page, "Sign in at https://bank.example@evil.example/login \u202eok")
    tricky = _message(host_page, "evil.example")
    await tricky.wait_for()
    link = tricky.locator("a.chat-link")
    assert await link.inner_text() == "https://evil.example/login"
    assert await link.get_attribute("href") == "https://evil.example/login"
    assert await link.get_attribute("dir") == "ltr"
    assert await tricky.locator("bdi.chat-message__name").inner_text() == "Ann Listener"

    await _say(host_page, "Welcome @ann!")
    welcome = _message(ann_page, "Welcome")
    await welcome.wait_for()
    assert "chat-message--mentions-me" in await welcome.get_attribute("class")

    # The moderator deletes Ann's message: it leaves both pages.
    await seen.get_by_role("button", name="Delete").click()
    await _message(ann_page, "example.com").wait_for(state="detached")
    await seen.wait_for(state="detached")

    # Then mutes her in the chat: she stays in the room, her box closes, the host sees her listed.
    await _say(ann_page, "One more thing")
    await _message(host_page, "One more thing").get_by_role("button", name="Mute in chat").click()
    await host_page.locator("[data-chat-muted]", has_text="Ann Listener").wait_for()
    await ann_page.wait_for_function("document.querySelector('[data-chat-input]').disabled")
    assert "muted you" in await ann_page.get_attribute("[data-chat-input]", "placeholder")

    # A listener reports the host's message; staff find it in admin, in its conversation.
    leo_page = await join(signed_in, server, room, leo)
    welcome_for_leo = _message(leo_page, "Welcome")
    await welcome_for_leo.wait_for()
    await welcome_for_leo.get_by_role("button", name="Report").click()
    await leo_page.select_option("#report-reason", "spam")
    await leo_page.get_by_role("button", name="Send report").click()
    await leo_page.get_by_text("The staff will look at your report").wait_for()
    report = await _report_about("Welcome @ann!")
    assert report is not None
    assert (report.reporter_id, report.reported_user_id) == (leo.pk, host.pk)

    staff_page = await signed_in(staff)
    await staff_page.goto(f"{server.url}/admin/moderation/report/")
    await staff_page.get_by_role("link", name=str(report.pk), exact=True).click()
    context = staff_page.locator(".chat-context")
    await context.wait_for()
    assert "Welcome @ann!" in await context.locator(".reported-message").inner_text()
    assert "One more thing" in await context.inner_text()
