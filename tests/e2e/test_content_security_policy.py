"""Every page runs in Chromium under the Content-Security-Policy without a single violation:
nothing the pages need is inline or from elsewhere."""

import pytest
from channels.db import database_sync_to_async

from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.pages import eventually

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@database_sync_to_async
def _people_and_room():
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    room = room_create(host=staff, title="Policy check")
    return staff, room


async def test_the_pages_cause_no_policy_violation(server, signed_in):
    staff, room = await _people_and_room()
    page = await signed_in(staff, bypass_csp=False)
    await page.context.add_init_script(RECORD_VIOLATIONS)
    addresses = [
        "/",
        "/rooms/new/",
        f"/rooms/{room.pk}/",
        f"/u/{staff.username}/",
        "/accounts/profile/",
        "/notifications/",
        "/notifications/settings/",
        "/clubs/",
        "/api/docs/",
        "/admin/",
        f"/admin/accounts/user/{staff.pk}/change/",
    ]
    for address in addresses:
        response = await page.goto(server.url + address)
        assert response.status == 200, address
        assert "script-src 'self'" in response.headers["content-security-policy"]
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate("window.__cspViolations") == [], address

    # Turbo's visits (its progress bar's stylesheet, allowed by its hash) and the docked
    # player that carries the room from page to page.
    await page.goto(f"{server.url}/rooms/{room.pk}/")
    joined = "() => Boolean(window.roundtable) && window.roundtable.state.seq !== null"
    await eventually(lambda: page.evaluate(joined), "joining the room")
    await page.evaluate("window.sameDocument = true")
    await page.get_by_role("link", name="Hallway").click()
    await page.get_by_role("region", name="Now listening").wait_for()
    assert await page.evaluate("window.sameDocument") is True
    assert await page.evaluate("document.querySelectorAll('style').length") == 1
    assert await page.evaluate("window.__cspViolations") == []
