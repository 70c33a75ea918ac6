// @ts-check
// Recording a room for its replay: what the page says about it and when it asks the reader
// to agree to be recorded. Pure: main.js wires it to the socket and the dialogs.
//
// Nobody's voice goes into a recording without their consent. While a room records, the
// server refuses to bring someone on stage or unmute them without it (`record_consent_required`),
// and when recording starts it mutes everyone on stage who has not agreed; the page asks them.

import { onStage } from "./state.js";

export function days(count) {
  return `${count} ${count === 1 ? "day" : "days"}`;
}

// What a replay is, in one sentence, as every prompt says it.
export function replayLine(retentionDays) {
  return `The voices on stage go into a replay that people can play for ${days(retentionDays)} after the room ends.`;
}

// The reader must agree before they may speak: the room records, they are on stage, and
// they have not agreed (as far as the page knows).
export function needsRecordConsent({ recording, me, consented }) {
  return Boolean(recording) && onStage(me) && !consented;
}

// Whether the page asks on its own (rather than when they press Unmute): not after they
// answered "not now" for this recording.
export function asksRecordConsent({ recording, me, consented, dismissed }) {
  return needsRecordConsent({ recording, me, consented }) && !dismissed;
}

// The invitation: its note on recording (empty when the room does not record) and its
// accept button.
export function inviteCopy(recording) {
  return recording
    ? {
        note: "This room is recorded. If you come on stage, your voice will be in the replay.",
        accept: "Agree and join the stage",
      }
    : { note: "", accept: "Join the stage" };
}

// The consent dialog. `started`: recording started while they were on stage. A speaker who
// declines goes back to the audience; a moderator stays on stage, muted.
export function consentCopy({ role, started, retentionDays }) {
  const moderator = role === "moderator";
  return {
    title: started ? "This room is now recorded" : "This room is recorded",
    text: `${replayLine(retentionDays)} Agree to be recorded to speak; until you do, you stay muted.`,
    agree: "Agree and stay on stage",
    decline: moderator ? "Stay muted" : "Leave the stage",
    declineNote: moderator
      ? "As a moderator you keep your place on stage, muted, and keep moderating."
      : "Leaving the stage takes you back to the audience, where you still hear the room.",
  };
}

// The moderators' confirmation before starting or stopping the recording.
export function recordingCopy({ recording, retentionDays }) {
  if (recording) {
    return {
      title: "Stop recording?",
      text: "What was recorded until now stays in the replay; nothing after it is recorded.",
      confirm: "Stop recording",
    };
  }
  return {
    title: "Record this room?",
    text: `${replayLine(retentionDays)} Everyone on stage is asked to agree first; until they do, they are muted.`,
    confirm: "Start recording",
  };
}

// The menu item that opens it.
export function recordingMenuLabel(recording) {
  return recording ? "Stop recording…" : "Start recording…";
}

// What a screen reader hears when the recording starts or stops.
export function recordingAnnouncement(recording) {
  return recording ? "This room is now recorded." : "This room is no longer recorded.";
}
