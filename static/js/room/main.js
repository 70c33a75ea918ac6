// The live room page: the socket, the room's state, the media transport and the view, wired.

import { ChatPanel } from "./chat.js";
import { Mesh } from "./mesh.js";
import { liveRoom } from "./live.js";
import { Playback } from "./playback.js";
import { Sfu } from "./sfu.js";
import { CLOSE } from "../protocol.js";
import { IceServers } from "./ice.js";
import { MicrophoneDialog } from "./microphone.js";
import {
  acceptFrame,
  asksRecordConsent,
  consentCopy,
  needsRecordConsent,
  recordingAnnouncement,
  recordingCopy,
} from "./recording.js";
import { RoomSocket } from "./socket.js";
import { onStage, RoomState } from "./state.js";
import { RoomView } from "./view.js";

const TRANSPORTS = { mesh: Mesh, sfu: Sfu };
const FOLLOWED_REFRESH_MS = 1500;
const OVER = {
  ended: ["This room has ended", "Thanks for listening."],
  no_moderator: ["This room has ended", "Its moderators left and did not come back."],
  removed: ["You were removed from this room", "A moderator removed you. You cannot come back to it."],
  replaced: ["You joined from somewhere else", "This room is open in another tab or device."],
  left: ["You left the room", "You left quietly."],
};

const root = document.querySelector("[data-room]");
const roomId = root.dataset.room;
const myId = Number(root.dataset.me);
const csrf = root.dataset.csrf;
const retentionDays = Number(root.dataset.replayDays) || 30;
const scheme = location.protocol === "https:" ? "wss" : "ws";

const state = new RoomState(myId);
const playback = new Playback(root.querySelector("[data-players]"), root.querySelector("[data-tap-to-listen]"));
let socket = null;
let reconnected = false;
let awaitingSnapshot = false;
let over = false;
let followedTimer = null;
let lastError = null;
// TURN's credentials are renewed while the page is open; connections open meanwhile take
// the fresh ones for their next ICE restart.
const ice = new IceServers(() => api("GET", "/api/rtc/ice-servers/"), {
  onRenew: () => {
    for (const transport of transports()) transport.reconfigure();
  },
});
let media = null; // the transport the room's audio goes through (see transport.js)
let incoming = null; // the media server's, while it comes up and the mesh still plays

const view = new RoomView(root, {
  state,
  marks: {
    speaking: (userId) => media?.speaking(userId) ?? false,
    reconnecting: (userId) => media?.reconnecting(userId) ?? false,
    condition: () => media?.condition() ?? { reconnecting: false, relayed: false },
  },
  actions: { send: (frame) => socket?.send(frame), block, report, follow, relation },
});

const chat = new ChatPanel(root.querySelector("[data-chat]"), {
  state,
  myId,
  actions: { send: (frame) => socket?.send(frame), report },
});

// For the console, the browser tests and the benchmarks: what the page knows, as plain data.
window.roundtable = {
  state,
  chat,
  receive: (frame) => onFrame(frame),
  get socket() {
    return socket;
  },
  debug: {
    // The transport's connections (bytes and levels in and out, states, the codecs sent
    // with, restarts), the microphone's tracks, and what plays; `incoming` while the room
    // moves to the media server.
    async audio() {
      const empty = { mode: state.media.mode, connections: [], mic: [] };
      return {
        ...(media ? await media.inspect() : empty),
        incoming: incoming ? await incoming.inspect() : null,
        playing: playback.playing(),
      };
    },
    simulate: (scenario, userId) => media.simulate(scenario, userId),
  },
};

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error?.message ?? `The server said ${response.status}.`);
  return data;
}

function transports() {
  return [media, incoming].filter(Boolean);
}

// Our voice and the roster, as the room's state has them, to a transport.
function instruct(transport, me) {
  transport.setMuted(me.muted);
  if (onStage(me)) {
    transport.publish().catch(() => {
      view.status(
        "Your microphone is blocked, so no one can hear you. Allow it for this site and reload.",
        { error: true },
      );
    });
  } else {
    transport.unpublish();
  }
  transport.sync(state.members.values());
}

function startTransport(mode, me) {
  const transport = new TRANSPORTS[mode]({
    myId,
    send: (frame) => socket?.send(frame),
    playback,
    rtcConfig: ice.config,
  });
  transport.addEventListener("marks", () => {
    if (transport !== media) return;
    view.renderMarks();
    liveRoom.changed();
  });
  instruct(transport, me);
  transport.join();
  return transport;
}

// The audio goes the way the room's media mode says. A room moves to the media server while
// live, make-before-break: the mesh goes once the media server's transport carries audio.
function followMediaMode(me) {
  const mode = TRANSPORTS[state.media.mode] ? state.media.mode : "mesh";
  if (!media) {
    media = startTransport(mode, me);
  } else if (media.mode !== mode && !incoming) {
    incoming = startTransport(mode, me);
    incoming.addEventListener(
      "ready",
      () => {
        media.leave();
        media = incoming;
        incoming = null;
        view.renderMarks();
      },
      { once: true },
    );
  }
}

function afterChange({ recordingStarted = false } = {}) {
  const me = state.me;
  if (me) {
    for (const transport of transports()) instruct(transport, me);
    followMediaMode(me);
  }
  for (const member of state.members.values()) playback.setMuted(member.user.id, member.muted);
  view.render();
  chat.render();
  followRecording({ started: recordingStarted });
  liveRoom.changed();
}

function refreshFollowed() {
  clearTimeout(followedTimer);
  followedTimer = setTimeout(async () => {
    try {
      const { user_ids: ids } = await api("GET", `/api/rooms/${roomId}/followed-by-speakers/`);
      state.followedByStage = new Set(ids);
      view.render();
    } catch {
      // Only a nicety; the audience is shown in full anyway.
    }
  }, FOLLOWED_REFRESH_MS);
}

// What a screen reader hears about the stage.
function announce(frame, before) {
  if (frame.type === "recording.changed") {
    view.announce(recordingAnnouncement(frame.recording));
  } else if (frame.type === "member.joined" && onStage(frame.member)) {
    view.announce(`${frame.member.user.display_name} joined the stage.`);
  } else if (frame.type === "member.left" && onStage(before)) {
    const who = before.user.display_name;
    view.announce(frame.removed ? `${who} was removed from the room.` : `${who} left the stage.`);
  } else if (frame.type === "member.updated") {
    const after = frame.member;
    const who = after.user.id === myId ? "You" : after.user.display_name;
    if (before && before.role !== after.role) {
      if (after.user.id === myId && onStage(after) && !onStage(before)) {
        view.announce("You are on stage and muted. Press Unmute to talk.");
      } else if (!onStage(after)) {
        view.announce(`${who} moved to the audience.`);
      } else {
        view.announce(`${who} ${after.user.id === myId ? "are" : "is"} now a ${after.role}.`);
      }
    } else if (before && before.muted !== after.muted && onStage(after)) {
      view.announce(`${who} ${after.muted ? "muted" : "unmuted"}.`);
    } else if (!before?.hand_raised && after.hand_raised && state.iModerate) {
      // A listener may raise a hand before the news of their arrival reaches us.
      view.announce(`${who} raised a hand.`);
    }
  }
}

function onFrame(frame) {
  if (over) return;
  if (frame.type.startsWith("chat.")) {
    chat.receive(frame);
  } else if (frame.type === "room.snapshot") {
    awaitingSnapshot = false;
    state.load(frame);
    view.status("");
    afterChange();
    chat.root.hidden = false;
    chat.start();
    if (reconnected) {
      reconnected = false;
      for (const transport of transports()) transport.rejoin();
    }
    refreshFollowed();
  } else if (state.numbered.has(frame.type)) {
    // A state event, applied in `seq` order.
    if (awaitingSnapshot) return;
    const before = frame.member
      ? state.members.get(frame.member.user.id)
      : state.members.get(frame.user_id);
    const result = state.apply(frame);
    if (result === "gap") {
      awaitingSnapshot = true;
      socket.send({ type: "snapshot.request" });
      return;
    }
    if (result !== "applied") return;
    if (frame.type === "room.ended") {
      finish(OVER[frame.reason] ? frame.reason : "ended");
      return;
    }
    if (frame.type === "recording.changed") recordingChanged(frame.recording);
    announce(frame, before);
    afterChange({ recordingStarted: frame.type === "recording.changed" && frame.recording });
    if (frame.type !== "member.updated" || before?.role !== frame.member.role) refreshFollowed();
  } else if (frame.type === "audience.page") {
    state.addAudiencePage(frame);
    view.render();
  } else if (frame.type === "speaker.invited") {
    view.showInviteFrom(frame.by);
    view.announce(`${frame.by.display_name} invites you to speak.`);
  } else if (frame.type === "reaction") {
    view.react(frame.user_id, frame.emoji);
  } else if (["signal", "speaking"].includes(frame.type) || frame.type.startsWith("media.")) {
    for (const transport of transports()) transport.receive(frame);
  } else if (frame.type === "error" && frame.ref === "chat") {
    chat.showError(frame.message);
  } else if (frame.type === "error" && frame.code === "record_consent_required") {
    consentRequired(frame);
  } else if (frame.type === "error") {
    if (frame.ref === "recording") startingRecording = false;
    lastError = frame;
    if (["removed", "replaced", "disconnected"].includes(frame.code)) return;
    view.status(frame.message, { error: true });
  }
}

function onClose(code, final) {
  if (over) return;
  if (!final) {
    view.status(code === CLOSE.restarting ? "Reconnecting…" : "Connection lost. Reconnecting…");
    return;
  }
  if (code === CLOSE.unauthenticated) {
    location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
    return;
  }
  if (code === CLOSE.replaced) {
    finish("replaced");
  } else if (lastError?.code === "removed") {
    finish("removed");
  } else if (code === CLOSE.notFound) {
    finish("ended");
  } else {
    const message = lastError?.message ?? "You cannot be in this room.";
    finish(null, ["You are not in this room", message]);
  }
}

const ENDINGS = new Set(["ended", "no_moderator"]);

function finish(kind, text = OVER[kind]) {
  over = true;
  clearTimeout(followedTimer);
  socket?.stop();
  ice.stop();
  for (const transport of transports()) transport.leave();
  for (const dialog of [recordDialog, consentDialog]) {
    if (dialog.open) dialog.close(OBSOLETE);
  }
  playback.clear();
  chat.root.hidden = true;
  view.showOver(...text, { ended: ENDINGS.has(kind) });
  liveRoom.end(text[0]);
}

function leaveQuietly() {
  socket.send({ type: "room.leave" });
  finish("left");
}

async function block(user) {
  if (!confirm(`Block ${user.display_name}? They will not be able to follow you or join rooms you moderate.`)) {
    return;
  }
  try {
    await api("POST", `/api/users/${encodeURIComponent(user.username)}/block/`);
    state.youBlocked.add(user.id);
    view.render();
    view.announce(`You blocked ${user.display_name}.`);
  } catch (error) {
    view.status(error.message, { error: true });
  }
}

// Whether the reader follows `user` (and blocks either way), as the profile API says now.
function relation(user) {
  return api("GET", `/api/users/${encodeURIComponent(user.username)}/`);
}

async function follow(user, on) {
  try {
    await api(on ? "POST" : "DELETE", `/api/users/${encodeURIComponent(user.username)}/follow/`);
    view.announce(on ? `You follow ${user.display_name}.` : `You unfollowed ${user.display_name}.`);
    // Who the speakers follow may have changed with it.
    refreshFollowed();
  } catch (error) {
    view.status(error.message, { error: true });
  }
}

// Saved microphone settings take effect at once for someone on stage: the microphone is
// taken again with them.
const microphone = new MicrophoneDialog(root.querySelector("[data-mic-dialog]"), {
  onSave: () => {
    const me = state.me;
    if (!media || !me || !onStage(me)) return;
    media.unpublish();
    instruct(media, me);
  },
});

const reportDialog = root.querySelector("[data-report-dialog]");
let reportTarget = null;

// A person (`user`), a chat message (`{ message }`), or the room (nothing).
function report(target) {
  const message = target?.message;
  const user = message ? null : target;
  reportTarget = message ? { message: message.id } : user ? { user: user.username } : { room: roomId };
  root.querySelector("[data-report-heading]").textContent = message
    ? `Report this message by ${message.user.display_name}`
    : user
      ? `Report ${user.display_name}`
      : "Report this room";
  root.querySelector("[data-report-error]").hidden = true;
  reportDialog.querySelector("form").reset();
  reportDialog.showModal();
}

reportDialog.querySelector("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/api/reports/", {
      ...reportTarget,
      reason: form.reason.value,
      text: form.text.value,
    });
    reportDialog.close();
    view.status("Thank you. The staff will look at your report.");
  } catch (error) {
    const box = root.querySelector("[data-report-error]");
    box.textContent = error.message;
    box.hidden = false;
  }
});

// Recording: the moderators' switch, with its confirmation, and the reader's consent to be
// recorded, asked when the room records and they are on stage without it.
const recordDialog = root.querySelector("[data-record-dialog]");
const consentDialog = root.querySelector("[data-consent-dialog]");
// A dialog closed by the page because its question no longer stands.
const OBSOLETE = "obsolete";
let startingRecording = false; // we asked to start it: the server takes our consent with it
let consentDismissed = false; // answered "not now" (or stayed muted) for this recording
let unmuteAfterConsent = false; // asked while unmuting: they unmute once they agree
let consentOnReturn = false; // asked from the docked player: asked again back in the room

function consentNeeded() {
  return needsRecordConsent({ recording: state.recording, me: state.me, consented: state.recordConsent });
}

// While the person browses other pages the room's page is parked in the docked player.
function parked() {
  return !root.isConnected || Boolean(root.closest("[data-player-keep]"));
}

function recordingChanged(recording) {
  if (recording && startingRecording) state.recordConsent = true;
  startingRecording = false;
  consentDismissed = false;
  if (recordDialog.open) recordDialog.close(OBSOLETE);
}

function askRecording() {
  const copy = recordingCopy({ recording: state.recording, retentionDays });
  root.querySelector("[data-record-heading]").textContent = copy.title;
  root.querySelector("[data-record-text]").textContent = copy.text;
  root.querySelector("[data-record-confirm]").textContent = copy.confirm;
  recordDialog.dataset.on = String(!state.recording);
  recordDialog.returnValue = "";
  recordDialog.showModal();
}

recordDialog.addEventListener("close", () => {
  if (recordDialog.returnValue !== "confirm") return;
  const on = recordDialog.dataset.on === "true";
  startingRecording = on;
  socket.send({ type: "recording.set", on, ref: "recording" });
});

function askConsent({ unmute = false, started = false } = {}) {
  const me = state.me;
  if (!me || !onStage(me)) return;
  if (unmute) unmuteAfterConsent = true;
  if (parked()) {
    // The question needs the room's page: back to it (the player's link), asked there.
    consentOnReturn = true;
    document.querySelector("[data-player-link]")?.click();
    return;
  }
  if (consentDialog.open) return;
  const copy = consentCopy({ role: me.role, started, retentionDays });
  root.querySelector("[data-consent-heading]").textContent = copy.title;
  root.querySelector("[data-consent-text]").textContent = copy.text;
  root.querySelector("[data-consent-note]").textContent = copy.declineNote;
  root.querySelector("[data-consent-agree]").textContent = copy.agree;
  root.querySelector("[data-consent-decline]").textContent = copy.decline;
  consentDialog.returnValue = "";
  consentDialog.showModal();
}

consentDialog.addEventListener("close", () => {
  const answer = consentDialog.returnValue;
  const unmute = unmuteAfterConsent;
  unmuteAfterConsent = false;
  if (answer === OBSOLETE) return;
  if (answer === "agree") {
    if (!socket.send({ type: "record.consent", consent: true })) return;
    state.recordConsent = true;
    if (unmute) socket.send({ type: "mute.set", muted: false, ref: "unmute" });
    else view.announce("Thank you. Press Unmute to talk.");
  } else {
    // Declined: a speaker goes back to the audience, a moderator stays muted. Escape leaves
    // things as they are: muted, and asked again on Unmute.
    consentDismissed = true;
    if (answer === "decline" && socket.send({ type: "record.consent", consent: false })) {
      state.recordConsent = false;
    }
  }
});

// After every change: the question is asked when it stands (once per recording unless they
// unmute), and taken back when it no longer does (recording stopped, off the stage).
function followRecording({ started = false } = {}) {
  if (recordDialog.open && !state.iModerate) recordDialog.close(OBSOLETE);
  if (!consentNeeded()) {
    unmuteAfterConsent = false;
    consentOnReturn = false;
    if (consentDialog.open) consentDialog.close(OBSOLETE);
    return;
  }
  if (parked()) return;
  const asks = asksRecordConsent({
    recording: state.recording,
    me: state.me,
    consented: state.recordConsent,
    dismissed: consentDismissed && !consentOnReturn,
  });
  consentOnReturn = false;
  if (asks) askConsent({ started });
}

// The server refused to bring the reader on stage or unmute them without consent.
function consentRequired(frame) {
  state.recordConsent = false;
  if (frame.ref === "accept" || !onStage(state.me)) {
    view.status(frame.message, { error: true });
    view.render();
    return;
  }
  askConsent({ unmute: frame.ref === "unmute" });
}

// Back in the room from another page (player.js puts the live page back on Turbo's render).
document.addEventListener("turbo:render", () => {
  setTimeout(() => {
    if (!over && !parked()) followRecording();
  });
});

function mute() {
  const me = state.me;
  if (!me) return;
  if (!me.muted) {
    socket.send({ type: "mute.set", muted: true });
  } else if (consentNeeded()) {
    askConsent({ unmute: true });
  } else {
    socket.send({ type: "mute.set", muted: false, ref: "unmute" });
  }
}

function accept() {
  // The invitation said the room records (view.js): accepting is agreeing.
  const frame = acceptFrame(state.recording);
  if (socket.send({ ...frame, ref: "accept" }) && frame.record_consent) state.recordConsent = true;
}

const ACTIONS = {
  hand: () => socket.send({ type: state.me?.hand_raised ? "hand.lower" : "hand.raise" }),
  mute,
  "leave-stage": () => socket.send({ type: "speaker.leave" }),
  accept,
  decline: () => socket.send({ type: "speaker.decline" }),
  more: () => socket.send({ type: "audience.more", offset: state.audienceLoaded() }),
  end: () => {
    if (confirm("End this room for everyone?")) socket.send({ type: "room.end" });
  },
  leave: () => {
    leaveQuietly();
    location.assign("/");
  },
  "copy-link": async () => {
    await navigator.clipboard?.writeText(location.href);
    view.status("Link copied.");
  },
  recording: () => askRecording(),
  "report-room": () => report(null),
  "report-cancel": () => reportDialog.close(),
  microphone: () => microphone.open(),
  "chat-open": () => root.classList.add("room--chat-open"),
  "chat-close": () => root.classList.remove("room--chat-open"),
};

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (button && ACTIONS[button.dataset.action]) {
    if (button.closest("details")) button.closest("details").open = false;
    ACTIONS[button.dataset.action]();
  }
});

// While the person browses other pages, the docked player shows the room and answers for it.
liveRoom.open({
  id: roomId,
  root,
  state,
  speaking: (userId) => media?.speaking(userId) ?? false,
  mute: () => ACTIONS.mute(),
  leave: leaveQuietly,
});

async function start() {
  await ice.load();
  let opened = false;
  socket = new RoomSocket(`${scheme}://${location.host}/ws/rooms/${roomId}/`, {
    onFrame,
    onOpen: () => {
      reconnected = opened;
      opened = true;
    },
    onClose,
  });
  socket.connect();
}

start();
