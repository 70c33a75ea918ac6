// Recording a room: when the page asks the reader's consent and what it says
// (static/js/room/recording.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  asksRecordConsent,
  consentCopy,
  days,
  inviteCopy,
  needsRecordConsent,
  recordingAnnouncement,
  recordingCopy,
  recordingMenuLabel,
} from "../../static/js/room/recording.js";

const speaker = { user: { id: 3 }, role: "speaker", muted: true };
const moderator = { user: { id: 3 }, role: "moderator", muted: true };
const listener = { user: { id: 3 }, role: "listener", muted: true };

test("consent is needed on stage in a recording room, until given", () => {
  assert.equal(needsRecordConsent({ recording: true, me: speaker, consented: false }), true);
  assert.equal(needsRecordConsent({ recording: true, me: moderator, consented: false }), true);
  assert.equal(needsRecordConsent({ recording: true, me: speaker, consented: true }), false);
  assert.equal(needsRecordConsent({ recording: false, me: speaker, consented: false }), false);
  assert.equal(needsRecordConsent({ recording: true, me: listener, consented: false }), false);
  assert.equal(needsRecordConsent({ recording: true, me: null, consented: false }), false);
});

test("the page asks on its own once per recording, not after 'not now'", () => {
  const base = { recording: true, me: speaker, consented: false };
  assert.equal(asksRecordConsent({ ...base, dismissed: false }), true);
  assert.equal(asksRecordConsent({ ...base, dismissed: true }), false);
  assert.equal(asksRecordConsent({ ...base, consented: true, dismissed: false }), false);
});

test("the invitation says the room records, and its button says agreeing", () => {
  const recorded = inviteCopy(true);
  assert.equal(
    recorded.note,
    "This room is recorded. If you come on stage, your voice will be in the replay.",
  );
  assert.equal(recorded.accept, "Agree and join the stage");
  assert.deepEqual(inviteCopy(false), { note: "", accept: "Join the stage" });
});

test("the consent dialog: a speaker may leave the stage, a moderator stays muted", () => {
  const asked = consentCopy({ role: "speaker", started: true, retentionDays: 30 });
  assert.equal(asked.title, "This room is now recorded");
  assert.match(asked.text, /replay that people can play for 30 days/);
  assert.equal(asked.agree, "Agree and stay on stage");
  assert.equal(asked.decline, "Leave the stage");
  const host = consentCopy({ role: "moderator", started: false, retentionDays: 1 });
  assert.equal(host.title, "This room is recorded");
  assert.match(host.text, /for 1 day after/);
  assert.equal(host.decline, "Stay muted");
});

test("the moderators' confirmation says how long the replay is kept", () => {
  const start = recordingCopy({ recording: false, retentionDays: 30 });
  assert.equal(start.confirm, "Start recording");
  assert.match(start.text, /voice|said on stage/);
  assert.match(start.text, /for 30 days/);
  assert.equal(recordingCopy({ recording: true, retentionDays: 30 }).confirm, "Stop recording");
  assert.equal(recordingMenuLabel(false), "Start recording…");
  assert.equal(recordingMenuLabel(true), "Stop recording…");
});

test("days and announcements read as sentences", () => {
  assert.equal(days(1), "1 day");
  assert.equal(days(30), "30 days");
  assert.equal(recordingAnnouncement(true), "This room is now recorded.");
  assert.equal(recordingAnnouncement(false), "This room is no longer recorded.");
});
