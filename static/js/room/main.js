// @ts-check
// The live room page: the socket, the room's state, the media transport and the view, wired.

import { ChatPanel } from "./chat.js";
import { Mesh } from "./mesh.js";
import { liveRoom } from "./live.js";
import { Playback } from "./playback.js";
import { Sfu } from "./sfu.js";
import { CLOSE } from "../protocol.js";
import { IceServers } from "./ice.js";
import { MicrophoneDialog } from "./microphone.js";
import { peopleApi, restApi } from "./api.js";
import { RecordingDialogs } from "./consent.js";
import { LockScreen } from "./lock-screen.js";
import { recordingAnnouncement } from "./recording.js";
import { ReportDialog } from "./report.js";
import { RoomSocket } from "./socket.js";
import { onStage, RoomState } from "./state.js";
import { RoomView } from "./view.js";
import { out } from "./frames.js";

const TRANSPORTS = { mesh: Mesh, sfu: Sfu };
const FOLLOWED_REFRESH_MS = 1500;
const OVER = {
  ended: ["This room has ended", "Thanks for listening."],
  // The host's own room: they were not listening.
  hosted: ["This room has ended", "Thanks for hosting."],
  no_moderator: ["This room has ended", "Its moderators left and did not come back."],
  removed: ["You were removed from this room", "A moderator removed you. You cannot come back to it."],
  replaced: ["You joined from somewhere else", "This room is open in another tab or device."],
  left: ["You left the room", "You left quietly."],
};

const root = /** @type {HTMLElement} */ (document.querySelector("[data-room]"));
const roomId = root.dataset.room;
const myId = Number(root.dataset.me);
const api = restApi(root.dataset.csrf);
const people = peopleApi(api);
const retentionDays = Number(root.dataset.replayDays) || 30;
const scheme = location.protocol === "https:" ? "wss" : "ws";

const state = new RoomState(myId);
const playback = new Playback(root.querySelector("[data-players]"), root.querySelector("[data-tap-to-listen]"));
const lockScreen = new LockScreen({
  pause: () => {
    playback.setPaused(true);
    followLockScreen();
  },
  play: () => {
    playback.setPaused(false);
    followLockScreen();
  },
  toggleMicrophone: () => ACTIONS.mute(),
  leave: () => leaveQuietly(),
});
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
  actions: { send: (frame) => socket?.send(frame), block, report, follow, relation: people.relation },
});

const chat = new ChatPanel(root.querySelector("[data-chat]"), {
  state,
  myId,
  actions: { send: (frame) => socket?.send(frame), report },
});

// For the console, the browser tests and the benchmarks: what the page knows, as plain data.
/** @type {any} */ (window).roundtable = {
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

// The lock screen says what the room is, whether it plays, and the reader's microphone; the
// screen stays awake while they are on stage.
function followLockScreen() {
  const me = state.me;
  const speaking = Boolean(me && onStage(me));
  lockScreen.show({
    title: state.room?.title ?? root.querySelector("h1")?.textContent ?? "",
    host: root.dataset.host,
    artwork: root.dataset.artwork,
    paused: playback.paused,
    onStage: speaking,
    muted: Boolean(me?.muted),
  });
  lockScreen.keepAwake(speaking);
}

function afterChange({ recordingStarted = false } = {}) {
  const me = state.me;
  if (me) {
    for (const transport of transports()) instruct(transport, me);
    followMediaMode(me);
  }
  for (const member of state.members.values()) playback.setMuted(member.user.id, member.muted);
  followLockScreen();
  view.render();
  chat.render();
  recording.follow({ started: recordingStarted });
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
      socket.send(out.snapshotRequest());
      return;
    }
    if (result !== "applied") return;
    if (frame.type === "room.ended") {
      const ended = state.room?.host_id === myId ? "hosted" : "ended";
      finish(OVER[frame.reason] && frame.reason !== "ended" ? frame.reason : ended);
      return;
    }
    if (frame.type === "recording.changed") recording.recordingChanged(frame.recording);
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
    recording.consentRequired(frame);
  } else if (frame.type === "error") {
    if (frame.ref === "recording") recording.refused();
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

const ENDINGS = new Set(["ended", "hosted", "no_moderator"]);

function finish(kind, text = OVER[kind]) {
  over = true;
  clearTimeout(followedTimer);
  socket?.stop();
  ice.stop();
  for (const transport of transports()) transport.leave();
  recording.close();
  lockScreen.close();
  playback.clear();
  chat.root.hidden = true;
  view.showOver(...text, { ended: ENDINGS.has(kind) });
  liveRoom.end(text[0]);
}

function leaveQuietly() {
  socket.send(out.roomLeave());
  finish("left");
}

async function block(user) {
  if (!confirm(`Block ${user.display_name}? They will not be able to follow you or join rooms you moderate.`)) {
    return;
  }
  try {
    await people.block(user);
    state.youBlocked.add(user.id);
    view.render();
    view.announce(`You blocked ${user.display_name}.`);
  } catch (error) {
    view.status(error.message, { error: true });
  }
}

async function follow(user, on) {
  try {
    await people.follow(user, on);
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

const reportDialog = new ReportDialog(root, {
  api,
  roomId,
  onSent: () => view.status("Thank you. The staff will look at your report."),
});

// A person (`user`), a chat message (`{ message }`), or the room (nothing).
function report(target) {
  reportDialog.open(target);
}

const recording = new RecordingDialogs(root, {
  state,
  view,
  send: (frame) => socket?.send(frame),
  retentionDays,
});

// Back in the room from another page (player.js puts the live page back on Turbo's render).
document.addEventListener("turbo:render", () => {
  setTimeout(() => {
    if (!over && !recording.parked()) recording.follow();
  });
});

const ACTIONS = {
  hand: () => socket.send(state.me?.hand_raised ? out.handLower() : out.handRaise()),
  mute: () => recording.toggleMute(),
  "leave-stage": () => socket.send(out.speakerLeave()),
  accept: () => recording.accept(),
  decline: () => socket.send(out.speakerDecline()),
  more: () => socket.send(out.audienceMore(state.audienceLoaded())),
  end: () => {
    if (confirm("End this room for everyone?")) socket.send(out.roomEnd());
  },
  leave: () => {
    leaveQuietly();
    location.assign("/");
  },
  "copy-link": async () => {
    await navigator.clipboard?.writeText(location.href);
    view.status("Link copied.");
  },
  recording: () => recording.askRecording(),
  "report-room": () => report(null),
  microphone: () => microphone.open(),
  "chat-open": () => root.classList.add("room--chat-open"),
  "chat-close": () => root.classList.remove("room--chat-open"),
};

root.addEventListener("click", (event) => {
  const button = /** @type {HTMLElement | null} */ (/** @type {Element} */ (event.target).closest("[data-action]"));
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
