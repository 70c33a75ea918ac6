// @ts-check
// Every frame the room page sends, built here and nowhere else, under the names the server
// declares (static/js/protocol.js; tests/js/frames.test.js holds them to the declarations).
// `ref` marks what an `error` answers: the page routes an error by it.

export const out = {
  ping: () => ({ type: "ping" }),
  snapshotRequest: () => ({ type: "snapshot.request" }),
  roomLeave: () => ({ type: "room.leave" }),
  roomEnd: () => ({ type: "room.end" }),
  audienceMore: (/** @type {number} */ offset) => ({ type: "audience.more", offset }),
  reaction: (/** @type {string} */ emoji) => ({ type: "reaction", emoji }),

  // The reader's own place on stage.
  handRaise: () => ({ type: "hand.raise" }),
  handLower: () => ({ type: "hand.lower" }),
  mute: () => ({ type: "mute.set", muted: true }),
  unmute: () => ({ type: "mute.set", muted: false, ref: "unmute" }),
  // In a recording room, coming on stage carries the consent the invitation asked for.
  speakerAccept: (/** @type {boolean} */ recording) =>
    recording
      ? { type: "speaker.accept", record_consent: true, ref: "accept" }
      : { type: "speaker.accept", ref: "accept" },
  speakerDecline: () => ({ type: "speaker.decline" }),
  speakerLeave: () => ({ type: "speaker.leave" }),
  recordConsent: (/** @type {boolean} */ consent) => ({ type: "record.consent", consent }),

  // A moderator's, about someone else.
  speakerInvite: (/** @type {number} */ userId) => ({ type: "speaker.invite", user_id: userId }),
  muteForce: (/** @type {number} */ userId) => ({ type: "mute.force", user_id: userId }),
  speakerRemove: (/** @type {number} */ userId) => ({ type: "speaker.remove", user_id: userId }),
  moderatorGrant: (/** @type {number} */ userId) => ({ type: "moderator.grant", user_id: userId }),
  moderatorRevoke: (/** @type {number} */ userId) => ({ type: "moderator.revoke", user_id: userId }),
  memberRemove: (/** @type {number} */ userId) => ({ type: "member.remove", user_id: userId }),
  recordingSet: (/** @type {boolean} */ on) => ({ type: "recording.set", on, ref: "recording" }),

  // Chat.
  chatSend: (/** @type {string} */ text, /** @type {number | undefined} */ replyTo) =>
    replyTo === undefined
      ? { type: "chat.send", text, ref: "chat" }
      : { type: "chat.send", text, reply_to: replyTo, ref: "chat" },
  chatMore: (/** @type {number | undefined} */ before = undefined) =>
    before === undefined ? { type: "chat.more", ref: "chat" } : { type: "chat.more", before, ref: "chat" },
  chatDelete: (/** @type {number} */ id) => ({ type: "chat.delete", id, ref: "chat" }),
  chatMute: (/** @type {number} */ userId) => ({ type: "chat.mute", user_id: userId, ref: "chat" }),
  chatUnmute: (/** @type {number} */ userId) => ({ type: "chat.unmute", user_id: userId, ref: "chat" }),
  chatSettings: (/** @type {string} */ mode, /** @type {number} */ slowSeconds) => ({
    type: "chat.settings",
    mode,
    slow_seconds: slowSeconds,
    ref: "chat",
  }),

  // The audio: the mesh's signalling to one peer, and the media server's session.
  signal: (/** @type {number} */ to, /** @type {string} */ session, /** @type {object} */ fields) => ({
    type: "signal",
    to,
    session,
    ...fields,
  }),
  mediaPublish: (/** @type {string} */ session, /** @type {string} */ sdp) => ({ type: "media.publish", session, sdp }),
  mediaAnswer: (/** @type {string} */ session, /** @type {string} */ sdp) => ({ type: "media.answer", session, sdp }),
  mediaCandidate: (/** @type {string} */ session, /** @type {object} */ candidate) => ({
    type: "media.candidate",
    session,
    candidate,
  }),
  mediaLeave: (/** @type {string} */ session) => ({ type: "media.leave", session }),
  mediaListen: (/** @type {string} */ session) => ({ type: "media.listen", session }),
};
