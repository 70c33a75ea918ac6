// @ts-check
// What the page knows about the room: the snapshot plus every numbered event after it.
// Events carry whole members, so applying one twice is harmless; a gap in `seq` means
// something was missed and the page asks for a new snapshot.

import { STAGE_ROLES as DECLARED_STAGE_ROLES } from "../protocol.js";

export const STAGE_ROLES = new Set(DECLARED_STAGE_ROLES);

export function onStage(member) {
  return Boolean(member) && STAGE_ROLES.has(member.role);
}

export class RoomState {
  constructor(myId) {
    this.myId = myId;
    this.seq = null;
    this.room = null;
    this.members = new Map();
    this.audienceCount = 0;
    this.youBlocked = new Set();
    this.followedByStage = new Set();
    this.media = { mode: "mesh" }; // how the room's audio travels: "mesh" or "sfu"
    // The reader agreed that their voice is recorded in this room (the snapshot's word, and
    // what they answered since).
    this.recordConsent = false;
    // The frame types that carry `seq`, as the server's snapshot lists them.
    this.numbered = new Set();
    this.snapshots = 0;
  }

  load(snapshot) {
    this.snapshots += 1;
    this.seq = snapshot.seq;
    this.room = snapshot.room;
    this.members = new Map(snapshot.members.map((member) => [member.user.id, member]));
    if (snapshot.me) this.members.set(snapshot.me.user.id, snapshot.me);
    this.audienceCount = snapshot.audience_count;
    this.youBlocked = new Set(snapshot.you_blocked);
    this.media = snapshot.media ?? { mode: "mesh" };
    this.numbered = new Set(snapshot.numbered);
    // The server's word while the room records; while it does not, the snapshot says false
    // whatever was agreed, and what the page knew stands.
    const recording = Boolean(snapshot.room?.recording);
    this.recordConsent = Boolean(snapshot.record_consent) || (!recording && this.recordConsent);
  }

  // "applied", "stale" (seen already) or "gap" (something was missed).
  apply(frame) {
    if (this.seq === null || frame.seq <= this.seq) return "stale";
    if (frame.seq > this.seq + 1) return "gap";
    this.seq = frame.seq;
    if (frame.type === "member.joined" || frame.type === "member.updated") {
      this.put(frame.member);
    } else if (frame.type === "member.left") {
      // A listener leaves in a batch that carries the count, a removed one alone with it.
      if (frame.audience_count !== undefined) this.audienceCount = frame.audience_count;
      this.members.delete(frame.user_id);
    } else if (frame.type === "members.batch") {
      for (const member of frame.joined) this.members.set(member.user.id, member);
      for (const userId of frame.left) this.members.delete(userId);
      this.audienceCount = frame.audience_count;
    } else if (frame.type === "media.mode") {
      this.media = { mode: frame.mode };
    } else if (frame.type === "room.updated") {
      this.room = { ...this.room, chat: frame.chat };
    } else if (frame.type === "recording.changed") {
      this.room = { ...this.room, recording: frame.recording };
    }
    return "applied";
  }

  put(member) {
    const before = this.members.get(member.user.id);
    // Role changes move people between the audience count and the stage.
    if (before && onStage(before) !== onStage(member)) {
      this.audienceCount = Math.max(0, this.audienceCount + (onStage(member) ? -1 : 1));
    }
    this.members.set(member.user.id, member);
  }

  addAudiencePage(page) {
    for (const member of page.members) {
      if (!this.members.has(member.user.id)) this.members.set(member.user.id, member);
    }
    this.audienceCount = page.audience_count;
  }

  get me() {
    return this.members.get(this.myId) ?? null;
  }

  get recording() {
    return Boolean(this.room?.recording);
  }

  get iModerate() {
    return this.me?.role === "moderator";
  }

  // Moderators first, then speakers, each in the order they came up.
  stage() {
    const people = [...this.members.values()].filter(onStage);
    return [
      ...people.filter((member) => member.role === "moderator"),
      ...people.filter((member) => member.role === "speaker"),
    ];
  }

  hands() {
    return [...this.members.values()]
      .filter((member) => !onStage(member) && member.hand_raised)
      .sort((a, b) => String(a.hand_raised_at).localeCompare(String(b.hand_raised_at)));
  }

  audience() {
    return [...this.members.values()].filter((member) => !onStage(member) && !member.hand_raised);
  }

  // Listeners the page knows without a raised hand: where the next audience page starts.
  audienceLoaded() {
    return this.audience().length;
  }
}
