// The frame types the browser code writes by hand are the ones the server declares
// (static/js/protocol.js, generated from the declarations): a renamed or removed frame
// fails here, not in a room.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { NOTIFICATION, ROOM } from "../../static/js/protocol.js";

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
