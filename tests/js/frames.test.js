// The frame types the browser code writes by hand are the ones the server declares
// (static/js/protocol.js, generated from the declarations): a renamed or removed frame
// fails here, not in a room.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { NOTIFICATION, ROOM } from "../../static/js/protocol.js";
import { out } from "../../static/js/room/frames.js";

const ROOT = new URL("../../static/js/", import.meta.url);
// Session descriptions have a `type` too ({ type: "offer", sdp }): not frames.
const DESCRIPTIONS = new Set(["offer", "answer"]);

function source(path) {
  return readFileSync(new URL(path, ROOT), "utf8");
}

function found(text, pattern) {
  return new Set([...text.matchAll(pattern)].map((match) => match[1]));
}

// Sent: `{ type: "x", ... }` and `send("x")` (the media sessions and the moderator menu).
function sent(text) {
  const names = new Set([...found(text, /\btype: "([\w.]+)"/g), ...found(text, /\bsend\("([\w.]+)"/g)]);
  for (const name of DESCRIPTIONS) names.delete(name);
  return names;
}

// Received: `frame.type === "x"`.
function received(text) {
  return found(text, /\bframe\.type === "([\w.]+)"/g);
}

function check(names, declared, what) {
  assert.ok(names.size > 0, `no ${what} found: the patterns no longer match the code`);
  const unknown = [...names].filter((name) => !declared.includes(name));
  assert.deepEqual(unknown, [], `${what} the server does not declare`);
}

test("the room page sends and handles only declared room frames", () => {
  const room = readdirSync(new URL("room/", ROOT))
    .filter((name) => name.endsWith(".js"))
    .map((name) => source(`room/${name}`))
    .join("\n");
  check(sent(room), ROOM.client, "room frames sent");
  check(received(room), ROOM.server, "room frames handled");
});

test("the notification socket sends and handles only declared frames", () => {
  const text = source("notifications.js");
  check(sent(text), NOTIFICATION.client, "notification frames sent");
  check(received(text), NOTIFICATION.server, "notification frames handled");
});

test("every frame the room page builds is a declared client frame", () => {
  const refs = new Set(["chat", "recording", "unmute", "accept"]);
  for (const [name, build] of Object.entries(out)) {
    const frame = build(1, "s", {});
    assert.ok(ROOM.client.includes(frame.type), `${name} builds ${frame.type}, which the server does not declare`);
    if ("ref" in frame) assert.ok(refs.has(frame.ref), `${name}: a ref the page does not route: ${frame.ref}`);
  }
});

test("accepting an invitation carries consent only in a recording room", () => {
  assert.deepEqual(out.speakerAccept(true), { type: "speaker.accept", record_consent: true, ref: "accept" });
  assert.deepEqual(out.speakerAccept(false), { type: "speaker.accept", ref: "accept" });
});

test("a chat message names what it replies to only when it replies", () => {
  assert.deepEqual(out.chatSend("hi", undefined), { type: "chat.send", text: "hi", ref: "chat" });
  assert.deepEqual(out.chatSend("hi", 7), { type: "chat.send", text: "hi", reply_to: 7, ref: "chat" });
});
