// What the room page knows: the snapshot and the numbered events after it
// (static/js/room/state.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { RoomState, STAGE_ROLES } from "../../static/js/room/state.js";

function member(id, role = "listener", extra = {}) {
  return { user: { id, username: `user${id}` }, role, hand_raised: false, ...extra };
}

function loaded() {
  const state = new RoomState(3);
  state.load({
    seq: 10,
    room: { id: 7, chat: "everyone" },
    members: [member(1, "moderator"), member(2, "speaker")],
    me: member(3),
    audience_count: 40,
    you_blocked: [9],
    numbered: ["member.joined", "member.left"],
  });
  return state;
}

test("the stage roles are the declared ones", () => {
  assert.deepEqual([...STAGE_ROLES].sort(), ["moderator", "speaker"]);
});

test("a snapshot sets the room, the reader and the counts", () => {
  const state = loaded();
  assert.equal(state.seq, 10);
  assert.equal(state.me.user.id, 3);
  assert.equal(state.iModerate, false);
  assert.equal(state.audienceCount, 40);
  assert.deepEqual(state.media, { mode: "mesh" });
  assert.deepEqual([...state.youBlocked], [9]);
  assert.deepEqual(state.stage().map((m) => m.user.id), [1, 2]);
});

test("the next event applies; one seen already is stale; a skipped one is a gap", () => {
  const state = loaded();
  assert.equal(state.apply({ type: "member.joined", seq: 11, member: member(4) }), "applied");
  assert.equal(state.apply({ type: "member.joined", seq: 11, member: member(5) }), "stale");
  assert.equal(state.members.has(5), false);
  assert.equal(state.apply({ type: "member.joined", seq: 13, member: member(6) }), "gap");
  assert.equal(state.members.has(6), false);
  assert.equal(state.seq, 11);
});

test("nothing applies before the first snapshot", () => {
  const state = new RoomState(3);
  assert.equal(state.apply({ type: "member.joined", seq: 1, member: member(4) }), "stale");
});

test("going up to the stage and back moves a person out of and into the count", () => {
  const state = loaded();
  state.apply({ type: "member.updated", seq: 11, member: member(3, "speaker") });
  assert.equal(state.audienceCount, 39);
  assert.deepEqual(state.stage().map((m) => m.user.id), [1, 2, 3]);
  state.apply({ type: "member.updated", seq: 12, member: member(2, "listener") });
  assert.equal(state.audienceCount, 40);
  assert.deepEqual(state.stage().map((m) => m.user.id), [1, 3]);
});

test("moderators stand before speakers, whatever order they came in", () => {
  const state = loaded();
  state.apply({ type: "member.joined", seq: 11, member: member(8, "moderator") });
  assert.deepEqual(state.stage().map((m) => m.user.id), [1, 8, 2]);
});

test("a batch adds and drops listeners and carries the count", () => {
  const state = loaded();
  state.apply({ type: "members.batch", seq: 11, joined: [member(4), member(5)], left: [3], audience_count: 41 });
  assert.deepEqual([...state.members.keys()].sort(), [1, 2, 4, 5]);
  assert.equal(state.audienceCount, 41);
  assert.equal(state.me, null);
});

test("a member who leaves alone brings the count only when it changed", () => {
  const state = loaded();
  state.apply({ type: "member.left", seq: 11, user_id: 2 });
  assert.equal(state.audienceCount, 40);
  state.apply({ type: "member.left", seq: 12, user_id: 3, audience_count: 39 });
  assert.equal(state.audienceCount, 39);
  assert.deepEqual([...state.members.keys()], [1]);
});

test("raised hands come in the order they went up, apart from the audience", () => {
  const state = loaded();
  const late = member(4, "listener", { hand_raised: true, hand_raised_at: "2026-12-07T10:00:05Z" });
  const early = member(5, "listener", { hand_raised: true, hand_raised_at: "2026-12-07T10:00:01Z" });
  state.apply({ type: "members.batch", seq: 11, joined: [late, early, member(6)], left: [], audience_count: 43 });
  assert.deepEqual(state.hands().map((m) => m.user.id), [5, 4]);
  assert.deepEqual(state.audience().map((m) => m.user.id), [3, 6]);
  assert.equal(state.audienceLoaded(), 2);
});

test("an audience page adds whom the page did not know and never overwrites a newer member", () => {
  const state = loaded();
  state.apply({ type: "member.updated", seq: 11, member: member(3, "listener", { hand_raised: true }) });
  state.addAudiencePage({ members: [member(3), member(20)], audience_count: 55 });
  assert.equal(state.members.get(3).hand_raised, true);
  assert.equal(state.members.has(20), true);
  assert.equal(state.audienceCount, 55);
});

test("the media mode and the chat setting follow their events", () => {
  const state = loaded();
  state.apply({ type: "media.mode", seq: 11, mode: "sfu" });
  state.apply({ type: "room.updated", seq: 12, chat: "off" });
  assert.deepEqual(state.media, { mode: "sfu" });
  assert.deepEqual(state.room, { id: 7, chat: "off" });
});

test("recording follows its event, the rest of the room untouched", () => {
  const state = loaded();
  assert.equal(state.recording, false);
  assert.equal(state.apply({ type: "recording.changed", seq: 11, recording: true }), "applied");
  assert.deepEqual(state.room, { id: 7, chat: "everyone", recording: true });
  assert.equal(state.recording, true);
  state.apply({ type: "recording.changed", seq: 12, recording: false });
  assert.equal(state.recording, false);
});

test("the reader's consent to be recorded is the snapshot's while the room records", () => {
  const state = new RoomState(3);
  const snapshot = (recording, consent) => ({
    seq: 1,
    room: { id: 7, recording },
    members: [],
    me: member(3, "speaker"),
    audience_count: 0,
    you_blocked: [],
    record_consent: consent,
    numbered: [],
  });
  state.load(snapshot(true, true));
  assert.equal(state.recordConsent, true);
  state.load(snapshot(true, false));
  assert.equal(state.recordConsent, false);
  // Not recording, the snapshot says false whatever was agreed: what the page knew stands.
  state.recordConsent = true;
  state.load(snapshot(false, false));
  assert.equal(state.recordConsent, true);
});
