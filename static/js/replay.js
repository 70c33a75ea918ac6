// The replay page (templates/replays/replay.html, replays.views.replay_page). Ready, its
// <audio> gets the page's player in place of the browser's controls: play and pause, the
// waveform to click or drag, speeds, "Next speaker", the chapters (who spoke when), the
// transcript (the line being said marked, each line a link there) and captions, a link to
// the moment playing (`?t=<seconds>`, which the page opens at), keys, and the Media Session
// (the system's media controls). While the replay is made, the page asks the API every few
// seconds and shows itself again once the replay is ready, or failed.
//
// Turbo swaps pages in one document (navigation.js): what a replay page sets up on the
// document goes when the next page is shown.

import { visit } from "../vendor/turbo/turbo.es2017-esm.js";
import { onEveryPage } from "./pages.js";
import { restApi } from "./room/api.js";
import { ReportDialog } from "./room/report.js";
import {
  chapterAt,
  clamp,
  clock,
  lineAt,
  momentFrom,
  momentLink,
  nextChapter,
  spoken,
  stepSpeed,
} from "./replay/time.js";
import { Waveform } from "./replay/waveform.js";

const SPEEDS = [1, 1.5, 2];
const SKIP_SECONDS = 10;
const PAGE_SECONDS = 60;
// Whether the reader wants captions, kept for every replay.
const CAPTIONS_KEY = "roundtable.replay.captions";
// How often a page waiting for its replay asks: while the replay is made (a minute or two),
// and while its room is still live (hours, maybe).
const POLL_MS = { processing: 4000, recording: 30000 };
const NOTE_MS = 6000;

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

// Recording or processing: the page again once the state changed (ready, failed, deleted).
async function waitForReplay(root, signal) {
  const initial = root.dataset.status;
  while (!signal.aborted) {
    await pause(POLL_MS[initial] ?? POLL_MS.processing, signal);
    if (signal.aborted) return;
    let status;
    try {
      const response = await fetch(root.dataset.api, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal,
      });
      if (response.status === 404) status = "gone";
      else if (response.ok) status = (await response.json()).status;
      else continue; // the server is busy or restarting: ask again later
    } catch {
      continue; // offline for a moment, or the page is going
    }
    if (status !== initial && !signal.aborted) {
      visit(location.href, { action: "replace" });
      return;
    }
  }
}

// Where the keyboard is for writing, or for a control that answers Space itself.
function typing(target) {
  const fields = "input, textarea, select, [contenteditable=''], [contenteditable=true]";
  return Boolean(target.closest?.(fields));
}

function ownsSpace(target) {
  return Boolean(target.closest?.("button, summary, [role=button], a[href]:not([data-start])"));
}

class ReplayPlayer {
  constructor(root, signal) {
    this.root = root;
    this.signal = signal;
    const player = root.querySelector("[data-player]");
    const part = (name) => player.querySelector(`[data-${name}]`);
    this.player = player;
    this.audio = part("audio");
    this.playButton = part("play");
    this.current = part("current");
    this.note = part("note");
    this.slider = part("wave");
    this.speeds = [...player.querySelectorAll("[data-speed]")];
    this.known = Number(player.dataset.duration) || 0;
    this.chapters = [...root.querySelectorAll("[data-chapters] [data-start]")].map((link) => ({
      link,
      start: Number(link.dataset.start),
      end: Number(link.dataset.end),
      name: link.querySelector(".replay-chapter__name")?.textContent ?? "",
    }));
    this.lines = [...root.querySelectorAll("[data-transcript] [data-start]")].map((link) => ({
      link,
      start: Number(link.dataset.start),
      end: Number(link.dataset.end),
      text: link.querySelector(".replay-line__text")?.textContent ?? "",
    }));
    this.transcript = root.querySelector("[data-transcript]");
    this.caption = part("caption");
    this.captionsButton = part("captions");
    this.captions = this.lines.length > 0 && localStorage.getItem(CAPTIONS_KEY) === "on";
    this.saying = -1; // the transcript's line being said
    this.waveform = new Waveform(this.slider, {
      peaks: JSON.parse(player.dataset.peaks || "[]"),
      onScrub: (fraction) => this.showTime(fraction * this.duration),
      onSeek: (fraction) =>
        fraction === null ? this.render() : this.seek(fraction * this.duration),
    });
    this.noteTimer = null;
    this.frame = null;

    // Script runs: the page's controls instead of the browser's.
    this.audio.controls = false;
    part("controls").hidden = false;
    this.listen(part);
    this.session();
    // Where `?t=` asks to start; again once the audio's metadata is in, if it was not yet.
    this.start = momentFrom(location.search);
    if (this.start !== null) this.seek(this.start);
    if (this.audio.readyState >= HTMLMediaElement.HAVE_METADATA) this.start = null;
    this.render();
    signal.addEventListener("abort", () => this.close(), { once: true });
  }

  get duration() {
    const duration = this.audio.duration;
    return Number.isFinite(duration) && duration > 0 ? duration : this.known;
  }

  listen(part) {
    const on = (target, type, handler) =>
      target.addEventListener(type, handler, { signal: this.signal });
    const audio = this.audio;
    on(this.playButton, "click", () => this.toggle());
    for (const button of this.speeds) {
      on(button, "click", () => this.setSpeed(Number(button.dataset.speed)));
    }
    const next = part("next");
    if (next) on(next, "click", () => this.nextSpeaker());
    on(part("copy"), "click", () => this.copyLink());
    if (this.captionsButton) on(this.captionsButton, "click", () => this.toggleCaptions());
    const report = part("report-moment");
    if (report) {
      const dialog = new ReportDialog(this.root, {
        api: restApi(this.root.dataset.csrf),
        roomId: this.root.dataset.replay,
        onSent: () => this.say("Thank you. The staff will look at that moment."),
      });
      on(report, "click", () => {
        this.audio.pause();
        dialog.open({ replayAt: this.audio.currentTime });
      });
    }
    for (const moment of [...this.chapters, ...this.lines]) {
      on(moment.link, "click", (event) => {
        const modified = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
        if (event.button !== 0 || modified) return; // a new tab or window: the ?t= link
        event.preventDefault();
        this.seek(moment.start);
        this.play();
      });
    }
    on(this.slider, "keydown", (event) => this.sliderKey(event));
    on(document, "keydown", (event) => this.key(event));

    for (const type of ["timeupdate", "seeked", "durationchange", "ratechange", "ended"]) {
      on(audio, type, () => this.render());
    }
    on(audio, "loadedmetadata", () => {
      // Asked for a moment before the browser knew the audio: it is known now.
      if (this.start !== null && Math.abs(audio.currentTime - this.start) > 0.5) {
        this.seek(this.start);
      }
      this.start = null;
      this.render();
    });
    on(audio, "play", () => {
      this.render();
      this.animate();
    });
    on(audio, "pause", () => this.render());
    // No source this browser can play: the last <source> says so.
    const sources = audio.querySelectorAll("source");
    on(sources[sources.length - 1], "error", () => {
      this.say("This browser cannot play the replay.", { keep: true });
    });
  }

  // While it plays, the waveform and the clock follow every frame, not only timeupdate's
  // few times a second.
  animate() {
    if (this.frame !== null) return;
    const step = () => {
      this.frame = null;
      if (this.audio.paused || this.signal.aborted) return;
      this.render({ quiet: true });
      this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  play() {
    this.audio.play().catch((error) => {
      if (error.name === "NotAllowedError") this.say("Press play to listen.");
    });
  }

  toggle() {
    if (this.audio.paused || this.audio.ended) this.play();
    else this.audio.pause();
  }

  seek(time) {
    const target = clamp(time, this.duration);
    this.audio.currentTime = target;
    this.render({ at: target });
  }

  seekBy(seconds) {
    this.seek(this.audio.currentTime + seconds);
  }

  setSpeed(rate) {
    this.audio.defaultPlaybackRate = rate; // kept if the browser loads the source again
    this.audio.playbackRate = rate;
    this.render();
  }

  nextSpeaker() {
    const index = nextChapter(this.chapters, this.audio.currentTime);
    if (index === -1) {
      this.say("No one else speaks after this.");
      return;
    }
    const chapter = this.chapters[index];
    this.seek(chapter.start);
    this.say(`${chapter.name}, from ${clock(chapter.start)}.`);
  }

  async copyLink() {
    const link = momentLink(location.href, this.audio.currentTime);
    try {
      await navigator.clipboard.writeText(link);
      this.say(`Link copied: it opens the replay at ${clock(this.audio.currentTime)}.`);
    } catch {
      this.say(`Copy this link: ${link}`, { keep: true });
    }
  }

  say(text, { keep = false } = {}) {
    clearTimeout(this.noteTimer);
    this.note.textContent = text;
    if (!keep) {
      this.noteTimer = setTimeout(() => {
        this.note.textContent = "";
      }, NOTE_MS);
    }
  }

  // Space and k play or pause, ← and → skip 10 s, < and > change the speed, n goes to the
  // next speaker, c turns captions on and off; not while typing, nor with a modifier (the browser's own shortcuts).
  key(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const actions = {
      " ": () => this.toggle(),
      k: () => this.toggle(),
      ArrowLeft: () => this.seekBy(-SKIP_SECONDS),
      ArrowRight: () => this.seekBy(SKIP_SECONDS),
      ">": () => this.setSpeed(stepSpeed(SPEEDS, this.audio.playbackRate, 1)),
      "<": () => this.setSpeed(stepSpeed(SPEEDS, this.audio.playbackRate, -1)),
      n: () => this.chapters.length > 0 && this.nextSpeaker(),
      c: () => this.lines.length > 0 && this.toggleCaptions(),
    };
    const key = event.key.length === 1 && event.key !== " " ? event.key.toLowerCase() : event.key;
    const action = actions[key];
    if (!action || (key === " " && ownsSpace(event.target))) return;
    event.preventDefault();
    action();
  }

  // The waveform as a slider: arrows up and down as left and right, Page Up and Down a
  // minute, Home and End the ends.
  sliderKey(event) {
    const moves = {
      ArrowUp: () => this.seekBy(SKIP_SECONDS),
      ArrowDown: () => this.seekBy(-SKIP_SECONDS),
      PageUp: () => this.seekBy(PAGE_SECONDS),
      PageDown: () => this.seekBy(-PAGE_SECONDS),
      Home: () => this.seek(0),
      End: () => this.seek(this.duration),
    };
    const move = moves[event.key];
    if (!move || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault();
    move();
  }

  showTime(time) {
    const text = clock(time);
    if (this.current.textContent !== text) this.current.textContent = text;
  }

  render({ at = null, quiet = false } = {}) {
    const audio = this.audio;
    const duration = this.duration;
    const time = at ?? audio.currentTime;
    if (!this.waveform.scrubbing) {
      this.showTime(time);
      this.waveform.show(duration > 0 ? time / duration : 0);
    }
    const playing = !audio.paused && !audio.ended;
    this.player.dataset.playing = String(playing);
    this.playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    for (const button of this.speeds) {
      const pressed = Math.abs(Number(button.dataset.speed) - audio.playbackRate) < 0.01;
      button.setAttribute("aria-pressed", String(pressed));
    }
    const current = chapterAt(this.chapters, time);
    this.chapters.forEach((chapter, index) => {
      if (index === current) chapter.link.setAttribute("aria-current", "true");
      else chapter.link.removeAttribute("aria-current");
    });
    this.follow(time, playing);
    if (quiet) return; // a frame of playback: the slider's value and the system's follow timeupdate
    this.slider.setAttribute("aria-valuemax", String(Math.round(duration)));
    this.slider.setAttribute("aria-valuenow", String(Math.round(time)));
    this.slider.setAttribute("aria-valuetext", spoken(time, duration));
    this.position(playing);
  }

  toggleCaptions() {
    this.captions = !this.captions;
    localStorage.setItem(CAPTIONS_KEY, this.captions ? "on" : "off");
    this.say(this.captions ? "Captions on." : "Captions off.");
    this.render();
  }

  // The transcript follows the audio: the line being said is marked (and kept in sight in
  // the list while it plays), and shown as the caption when captions are on.
  follow(time, playing) {
    if (this.lines.length === 0) return;
    const index = lineAt(this.lines, time);
    const line = this.lines[index];
    if (index !== this.saying) {
      this.lines[this.saying]?.link.removeAttribute("aria-current");
      line?.link.setAttribute("aria-current", "true");
      this.saying = index;
      if (line && playing) this.keepInSight(line.link);
    }
    this.captionsButton.setAttribute("aria-pressed", String(this.captions));
    const text = this.captions && line ? line.text : "";
    if (this.caption.textContent !== text) this.caption.textContent = text;
    this.caption.hidden = !text;
  }

  // Scrolls the transcript's list (not the page) to show `link` when it is out of sight.
  keepInSight(link) {
    const list = this.transcript;
    const top = link.offsetTop; // the list is the links' offset parent
    if (top < list.scrollTop || top + link.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }

  // The Media Session: the system's media controls and lock screen show the replay.
  session() {
    if (!("mediaSession" in navigator)) return;
    const session = navigator.mediaSession;
    const { title, artist, artwork } = this.player.dataset;
    if ("MediaMetadata" in window) {
      session.metadata = new MediaMetadata({
        title,
        artist,
        album: "Roundtable replay",
        artwork: artwork ? [{ src: new URL(artwork, location.href).href }] : [],
      });
    }
    const handlers = {
      play: () => this.play(),
      pause: () => this.audio.pause(),
      seekto: (details) => this.seek(details.seekTime),
      seekbackward: (details) => this.seekBy(-(details.seekOffset || SKIP_SECONDS)),
      seekforward: (details) => this.seekBy(details.seekOffset || SKIP_SECONDS),
      nexttrack: this.chapters.length > 0 ? () => this.nextSpeaker() : null,
    };
    this.actions = Object.keys(handlers);
    for (const [action, handler] of Object.entries(handlers)) {
      try {
        session.setActionHandler(action, handler);
      } catch {
        // An action this browser does not know.
      }
    }
  }

  position(playing) {
    if (!("mediaSession" in navigator)) return;
    const session = navigator.mediaSession;
    session.playbackState = playing ? "playing" : "paused";
    const duration = this.duration;
    if (!session.setPositionState || !(duration > 0)) return;
    try {
      session.setPositionState({
        duration,
        playbackRate: this.audio.playbackRate,
        position: clamp(this.audio.currentTime, duration),
      });
    } catch {
      // A state the browser refuses (a rate it does not take): the system shows less.
    }
  }

  // The page is going: nothing of it stays on the document or the system's controls.
  close() {
    clearTimeout(this.noteTimer);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.waveform.destroy();
    this.audio.pause();
    if (!("mediaSession" in navigator)) return;
    for (const action of this.actions ?? []) {
      try {
        navigator.mediaSession.setActionHandler(action, null);
      } catch {
        // As above.
      }
    }
    navigator.mediaSession.metadata = null;
    navigator.mediaSession.playbackState = "none";
  }
}

// Last: the class above is defined by the time the first page is set up.
onEveryPage(() => {
  const root = document.querySelector("[data-replay]");
  if (!root) return;
  const stop = new AbortController();
  document.addEventListener("turbo:before-render", () => stop.abort(), {
    once: true,
    signal: stop.signal,
  });
  if (root.querySelector("[data-player]")) new ReplayPlayer(root, stop.signal);
  else if (root.querySelector("[data-wait]")) waitForReplay(root, stop.signal);
});
