"""Real Chromium against a real server process started by the test (daphne, on the Redis
channel layer when REDIS_URL is set), with fake microphones that play a voice-like sound."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from rooms.services.lifecycle import room_create
from tests.factories import UserFactory
from tests.support.browser import AUTOPLAY, CHROMIUM, CHROMIUM_ARGS, SENTENCE, write_voice
from tests.support.servers import ROOT

SCREENSHOTS = Path(os.environ.get("TEST_SCREENSHOTS") or ROOT / "var" / "test-screenshots")
FAILED = pytest.StashKey[bool]()

# Headless Chromium plays sound without a gesture whatever its autoplay policy (and the
# tests' own script calls count as activation); this makes play() refuse, as a browser does,
# until the person has clicked or typed in the page.
BLOCK_AUTOPLAY = """
let interacted = false;
for (const type of ["pointerdown", "keydown"]) {
  addEventListener(type, (event) => { if (event.isTrusted) interacted = true; }, true);
}
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!interacted) {
    this.pause();
    return Promise.reject(new DOMException("The user has not interacted yet.", "NotAllowedError"));
  }
  return play.call(this);
};
"""

# Counts microphone requests, so a test can tell that a listener was never asked.
COUNT_MIC_REQUESTS = """
window.micRequests = 0;
if (navigator.mediaDevices) {
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    window.micRequests += 1;
    return ask(constraints);
  };
}
"""


@pytest.fixture(scope="session")
def chromium_path():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required (REQUIRE_BROWSER=1) but {CHROMIUM} is missing.")
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: `apt-get install chromium` (or set "
            "CHROMIUM_PATH) to run the browser tests."
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def speech_file(tmp_path_factory):
    """Ten seconds of a spoken sentence (espeak-ng), for what only speech shows."""
    if shutil.which("espeak-ng") is None:
        message = "espeak-ng is not installed (apt-get install espeak-ng)"
        if os.environ.get("REQUIRE_MEDIA") == "1":
            pytest.fail(f"{message} and REQUIRE_MEDIA=1.")
        pytest.skip(message)
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "-s", "150", SENTENCE], check=True)
    return path


@pytest.fixture(scope="session")
def voice_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("voice") / "voice.wav"
    write_voice(path)
    return path


@pytest.fixture
async def browser(chromium_path, voice_file):
    """Chromium that plays audio without a user gesture, as the tests cannot give one."""
    from playwright.async_api import async_playwright  # noqa: PLC0415 -- only when run

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={voice_file}", AUTOPLAY],
        )
        yield instance
        await instance.close()


@database_sync_to_async
def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[FAILED] = report.failed


@pytest.fixture
async def signed_in(request, server, browser):
    """Opens a new page signed in as `user`, counting microphone requests. When the test
    fails, every page it opened is saved as a screenshot (TEST_SCREENSHOTS, by default
    var/test-screenshots/)."""
    pages = []

    async def page_for(user, *, width=1100, height=900, autoplay=True, bypass_csp=True):
        # Playwright's wait_for_function evaluates its predicate with eval(), which the
        # pages' Content-Security-Policy forbids; only the policy's own test keeps it.
        context = await browser.new_context(
            viewport={"width": width, "height": height}, bypass_csp=bypass_csp
        )
        await context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": await _session_cookie(user),
                    "url": server.url,
                }
            ]
        )
        await context.add_init_script(COUNT_MIC_REQUESTS)
        if not autoplay:
            await context.add_init_script(BLOCK_AUTOPLAY)
        pages.append((user.username, await context.new_page()))
        return pages[-1][1]

    yield page_for
    if request.node.stash.get(FAILED, False):
        name = re.sub(r"[^\w.-]+", "-", request.node.name)
        saved = []
        for index, (username, page) in enumerate(pages):
            saved.append(SCREENSHOTS / f"{name}-{index}-{username}.png")
            await page.screenshot(path=saved[-1], full_page=True)
        request.node.add_report_section("teardown", "screenshots", "\n".join(map(str, saved)))


# A live room with its host speaking, and a listener: the audio tests' cast.
@pytest.fixture
def room():
    host = UserFactory(username="hana", display_name="Hana Host")
    return room_create(host=host, title="Night radio")


@pytest.fixture
def ann():
    return UserFactory(username="ann", display_name="Ann Listener")
