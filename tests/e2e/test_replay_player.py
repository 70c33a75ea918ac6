"""The replay's player in a real Chromium against a real server: a ready replay of ten
seconds, Ann speaking first and Bob from 0:05, encoded from a WAV part by replays.processing
as the worker does it. The page plays it, changes speed, skips to the next speaker, seeks on
the waveform, opens at the moment a link names, and follows the transcript with captions."""

import os
import shutil
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from moderation.models import Report
from replays.models import Replay, Transcript, TranscriptSegment
from rooms.models import Room
from tests.factories import UserFactory
from tests.replays.test_replay_page import encode_recording, ended_room, ready_replay
from tests.support.pages import eventually

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg"),
]

AUDIO = "document.querySelector('[data-audio]')"
TIMES = "\N{MULTIPLICATION SIGN}"  # as the speeds' buttons write it
SECOND_SPEAKER = 5.0
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    return encode_recording(tmp_path_factory.mktemp("recording"), 10.0)


@pytest.fixture
def cast(encoded):
    """Hana's ended open room with its replay ready; the files where the server finds them
    (REPLAYS_ROOT), removed after."""
    host = UserFactory(username="hana", display_name="Hana Host")
    ann = UserFactory(username="ann", display_name="Ann Speaker")
    bob = UserFactory(username="bob", display_name="Bob Speaker")
    room = ended_room(host, title="Open mic", description="Anyone can talk.")
    chapters = [
        {"start": 0.0, "end": 4.2, "user_id": ann.pk},
        {"start": SECOND_SPEAKER, "end": 10.0, "user_id": bob.pk},
    ]
    replay = ready_replay(room, encoded, chapters)
    yield replay, host, ann, bob
    for field in (replay.audio_ogg, replay.audio_m4a):
        field.delete(save=False)
    shutil.rmtree(Path(settings.REPLAYS_ROOT) / room.pk.hex, ignore_errors=True)


async def _open(page, server, replay, query: str = "") -> None:
    await page.goto(f"{server.url}/rooms/{replay.room_id}/replay/{query}")
    await page.wait_for_selector("[data-controls]", state="visible")


async def _keep_screenshot(page, name: str) -> None:
    """With REPLAY_SCREENSHOTS=<folder>, a picture of the page there."""
    if folder := os.environ.get("REPLAY_SCREENSHOTS"):
        await page.screenshot(path=Path(folder) / f"replay-{name}.png", full_page=True)


async def _time(page) -> float:
    return await page.evaluate(f"{AUDIO}.currentTime")


async def test_the_replay_plays_skips_to_the_next_speaker_and_speeds_up(server, signed_in, cast):
    replay, _, ann, _ = cast
    page = await signed_in(ann)
    await _open(page, server, replay)
    chapters = page.locator("[data-chapters] a")
    names = await page.locator("[data-chapters] .replay-chapter__name").all_text_contents()
    assert names == ["Ann Speaker", "Bob Speaker"]
    starts = await page.locator("[data-chapters] .replay-chapter__at").all_text_contents()
    assert starts == ["from 0:00", "from 0:05"]

    await page.get_by_role("button", name="Play").click()
    await page.wait_for_function(f"{AUDIO}.currentTime > 0.3 && !{AUDIO}.paused")
    await page.wait_for_function("document.querySelector('[data-current]').textContent !== ''")
    assert await chapters.nth(0).get_attribute("aria-current") == "true"
    await page.get_by_role("button", name="Pause").click()
    await page.wait_for_function(f"{AUDIO}.paused")
    assert await _time(page) < SECOND_SPEAKER

    await page.get_by_role("button", name="Next speaker").click()
    await page.wait_for_function(
        f"Math.abs({AUDIO}.currentTime - {SECOND_SPEAKER}) < 0.05", polling=100
    )
    await page.wait_for_function(
        "document.querySelectorAll('[data-chapters] a')[1].getAttribute('aria-current') === 'true'"
    )
    assert await chapters.nth(0).get_attribute("aria-current") is None
    assert await page.text_content("[data-current]") == "0:05"

    await page.get_by_role("button", name=f"2{TIMES}").click()
    assert await page.evaluate(f"{AUDIO}.playbackRate") == 2
    assert await page.get_attribute("[data-speed='2']", "aria-pressed") == "true"
    assert await page.get_attribute("[data-speed='1']", "aria-pressed") == "false"
    await page.get_by_role("button", name="Play").click()
    await page.wait_for_function(f"{AUDIO}.currentTime > {SECOND_SPEAKER + 0.3}")

    # The keys: < slows down, k pauses, ← goes back ten seconds (to the start here).
    await page.keyboard.press("<")
    await page.wait_for_function(f"{AUDIO}.playbackRate === 1.5")
    await page.keyboard.press("k")
    await page.wait_for_function(f"{AUDIO}.paused")
    await page.keyboard.press("ArrowLeft")
    await page.wait_for_function(f"{AUDIO}.currentTime === 0")
    await page.keyboard.press("n")
    await page.wait_for_function(f"Math.abs({AUDIO}.currentTime - {SECOND_SPEAKER}) < 0.05")
    # Not while typing: the header's search field keeps its keys.
    await page.fill("input[type=search]", "")
    await page.keyboard.type("n k")
    assert await page.evaluate(f"{AUDIO}.paused")
    assert abs(await _time(page) - SECOND_SPEAKER) < 0.05


async def test_a_link_to_a_moment_opens_the_replay_there(server, browser, cast):
    """For someone signed out: the room is open, so its replay is too."""
    replay, *_ = cast
    context = await browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = await context.new_page()
    await _open(page, server, replay, "?t=3")
    await page.wait_for_function(
        f"{AUDIO}.readyState >= 1 && Math.abs({AUDIO}.currentTime - 3) < 0.05"
    )
    assert await page.text_content("[data-current]") == "0:03"
    assert await page.get_attribute("[data-wave]", "aria-valuetext") == "0:03 of 0:10"

    # The link to this moment says where it is.
    await page.evaluate(f"{AUDIO}.currentTime = 7.4")
    await page.wait_for_function(f"!{AUDIO}.seeking")
    await page.get_by_role("button", name="Copy link to this moment").click()
    await page.wait_for_selector("[data-note]:has-text('Link copied')")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{server.url}/rooms/{replay.room_id}/replay/?t=7"
    await context.close()


async def test_the_waveform_seeks_where_it_is_clicked_and_dragged(server, signed_in, cast):
    replay, host, *_ = cast
    page = await signed_in(host)
    await _open(page, server, replay)
    await page.wait_for_function(f"{AUDIO}.readyState >= 1")
    wave = page.locator("[data-wave]")
    box = await wave.bounding_box()
    y = box["y"] + box["height"] / 2
    await page.mouse.click(box["x"] + box["width"] * 0.75, y)
    await page.wait_for_function(f"Math.abs({AUDIO}.currentTime - 7.5) < 0.3")
    # Dragging shows the moment under the pointer and goes there when let go.
    await page.mouse.move(box["x"] + box["width"] * 0.7, y)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=5)
    assert await page.text_content("[data-current]") == "0:02"
    await page.mouse.up()
    await page.wait_for_function(f"Math.abs({AUDIO}.currentTime - 2) < 0.3")
    # The waveform is a slider for the keyboard too.
    await wave.focus()
    await page.keyboard.press("End")
    await page.wait_for_function(f"{AUDIO}.currentTime > 9.9")
    await page.keyboard.press("Home")
    await page.wait_for_function(f"{AUDIO}.currentTime === 0")


async def test_the_page_shows_the_player_once_the_replay_is_ready(server, signed_in, cast):
    replay, host, *_ = cast
    await database_sync_to_async(Replay.objects.filter(pk=replay.pk).update)(
        status=Replay.Status.PROCESSING
    )
    page = await signed_in(host)
    await page.goto(f"{server.url}/rooms/{replay.room_id}/replay/")
    await page.wait_for_selector("text=The replay is being prepared")
    assert await page.locator("audio").count() == 0
    await _keep_screenshot(page, "processing")
    await page.evaluate("window.sameDocument = true")
    await database_sync_to_async(Replay.objects.filter(pk=replay.pk).update)(
        status=Replay.Status.READY
    )
    await page.wait_for_selector("[data-controls]", state="visible", timeout=20_000)
    # Turbo showed the page again in the same document.
    assert await page.evaluate("window.sameDocument") is True


async def test_the_player_comes_and_goes_with_its_page_in_one_document(server, signed_in, cast):
    """Turbo swaps pages in one document: the replay page is reached from the ended room's,
    and what it set up (the system's media controls, the keys) goes with it."""
    replay, _, ann, _ = cast
    page = await signed_in(ann)
    await page.goto(f"{server.url}/rooms/{replay.room_id}/")
    await page.evaluate("window.sameDocument = true")
    await page.get_by_role("link", name="Listen to the replay").click()
    await page.wait_for_selector("[data-controls]", state="visible")
    assert await page.evaluate("navigator.mediaSession.metadata.title") == "Open mic"
    assert await page.evaluate("navigator.mediaSession.metadata.artist") == "Hana Host"
    await page.get_by_role("button", name="Play").click()
    await page.wait_for_function(f"{AUDIO}.currentTime > 0.3")

    await page.get_by_role("link", name="About the room").click()
    await page.wait_for_selector("text=This room ended")
    assert await page.evaluate("window.sameDocument") is True
    assert await page.evaluate("navigator.mediaSession.metadata") is None
    await page.keyboard.press("k")  # the replay's keys went with it: nothing happens

    await page.go_back()
    await page.wait_for_selector("[data-controls]", state="visible")
    await page.keyboard.press("k")
    await page.wait_for_function(f"!{AUDIO}.paused && {AUDIO}.currentTime > 0.3")


RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.parametrize("size", SIZES)
async def test_the_player_fits_the_screen_under_the_policy(server, signed_in, cast, size):
    """No Content-Security-Policy violation while it plays; nothing wider than a phone.
    REPLAY_SCREENSHOTS=<folder> keeps a picture of each size."""
    replay, _, ann, _ = cast
    width, height = SIZES[size]
    page = await signed_in(ann, width=width, height=height, bypass_csp=False)
    await page.context.add_init_script(RECORD_VIOLATIONS)
    await page.goto(f"{server.url}/rooms/{replay.room_id}/replay/?t=6")
    await page.locator("[data-controls]").wait_for(state="visible")
    await page.get_by_role("button", name="Play").click()
    playing = f"() => {AUDIO}.currentTime > 6.3"
    await eventually(lambda: page.evaluate(f"({playing})()"), "playing")
    await page.get_by_role("button", name="Pause").click()
    # The button says Play again once the audio says it paused.
    await page.get_by_role("button", name="Play").wait_for()
    assert await page.evaluate("window.__cspViolations") == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    for name in ("Play", "Next speaker", "Copy link to this moment", f"1.5{TIMES}"):
        assert await page.get_by_role("button", name=name).is_visible(), name
    await _keep_screenshot(page, size)


async def test_a_closed_rooms_replay_is_not_found_for_a_visitor(server, browser, cast, encoded):
    replay, *_ = cast
    await database_sync_to_async(Room.objects.filter(pk=replay.room_id).update)(
        visibility=Room.Visibility.CLOSED
    )
    context = await browser.new_context()
    page = await context.new_page()
    response = await page.goto(f"{server.url}/rooms/{replay.room_id}/replay/")
    assert response.status == 404
    assert "Open mic" not in await page.content()
    audio = await page.request.get(f"{server.url}/rooms/{replay.room_id}/replay/audio.ogg")
    assert audio.status == 404
    await context.close()


@database_sync_to_async
def _transcribed(replay, ann, bob):
    transcript = Transcript.objects.create(replay=replay, status=Transcript.Status.READY)
    TranscriptSegment.objects.bulk_create(
        [
            TranscriptSegment(
                transcript=transcript, start=0.5, end=4.0, text="Welcome to open mic.", user=ann
            ),
            TranscriptSegment(
                transcript=transcript, start=5.2, end=9.0, text="Thanks, glad to be here.", user=bob
            ),
        ]
    )


async def test_the_transcript_follows_the_audio_and_its_lines_seek(server, signed_in, cast):
    replay, _, ann, bob = cast
    await _transcribed(replay, ann, bob)
    page = await signed_in(ann)
    await _open(page, server, replay)
    section = page.get_by_role("region", name="What was said")
    lines = section.locator("[data-transcript] a")
    assert await lines.all_inner_texts() == [
        "0:00\nAnn Speaker\nWelcome to open mic.",
        "0:05\nBob Speaker\nThanks, glad to be here.",
    ]
    assert (
        await section.get_by_role("link", name="Download (WebVTT)").get_attribute("href")
        == f"/rooms/{replay.room_id}/replay/transcript.vtt"
    )

    # A line is a link to its moment: the audio plays from there, and the line is marked.
    await lines.nth(1).click()
    await page.wait_for_function(f"!{AUDIO}.paused && {AUDIO}.currentTime >= 5.2")
    await page.locator("[data-transcript] a[aria-current=true]").get_by_text("Thanks").wait_for()
    assert await lines.nth(0).get_attribute("aria-current") is None

    # Captions: off at first; c turns them on, and the line being said shows under the player.
    caption = page.locator("[data-caption]")
    assert await caption.is_hidden()
    await page.keyboard.press("c")
    await page.get_by_role("button", name="Captions", pressed=True).wait_for()
    await caption.get_by_text("Thanks, glad to be here.").wait_for()
    await page.get_by_role("button", name="Pause").click()

    # The choice is kept: the next replay page opens with captions on.
    await _open(page, server, replay, "?t=1")
    await page.get_by_role("button", name="Captions", pressed=True).wait_for()
    await page.locator("[data-caption]").get_by_text("Welcome to open mic.").wait_for()


async def test_without_a_transcript_the_page_says_why(server, signed_in, cast):
    replay, _, ann, _ = cast
    page = await signed_in(ann)
    await _open(page, server, replay)
    section = page.get_by_role("region", name="What was said")
    # The test server has the speech extra: no transcript was asked for this replay.
    assert await section.locator("p").inner_text() == "This replay has no transcript."
    assert await page.get_by_role("button", name="Captions").count() == 0


@database_sync_to_async
def _reports():
    return list(Report.objects.values_list("reported_room_id", "replay_at", "reason", "text"))


async def test_a_listener_reports_a_moment_of_the_replay(server, signed_in, cast):
    replay, host, ann, _ = cast
    page = await signed_in(ann)
    await _open(page, server, replay, "?t=6")
    await page.wait_for_function(f"{AUDIO}.readyState >= 1 && {AUDIO}.currentTime >= 6")
    await page.get_by_role("button", name="Report this moment").click()
    dialog = page.get_by_role("dialog", name="Report the replay at 0:06")
    await dialog.wait_for()
    await dialog.get_by_label("What is wrong?").select_option("hate")
    await dialog.get_by_label("Tell the staff more (optional)").fill("Slurs here.")
    await dialog.get_by_role("button", name="Send report").click()
    await page.locator("[data-note]").get_by_text("The staff will look at that moment.").wait_for()
    assert await _reports() == [(replay.room_id, 6.0, "hate", "Slurs here.")]
    # The host does not report their own replay.
    host_page = await signed_in(host)
    await _open(host_page, server, replay)
    assert await host_page.get_by_role("button", name="Report this moment").count() == 0
