// @ts-check
// Generated from the frame declarations by `python manage.py protocol_doc`; a test fails
// when this file and the declarations differ. Do not edit it by hand.

export const CLOSE = Object.freeze({
  "normal": 1000,
  "restarting": 4012,
  "unauthenticated": 4401,
  "forbidden": 4403,
  "notFound": 4404,
  "idle": 4408,
  "replaced": 4409,
  "tooBig": 4413,
  "rateLimited": 4429,
  "serverError": 4500,
  "tryAgain": 4503
});

export const ROOM = Object.freeze({
  "path": "/ws/rooms/<room_id>/",
  "client": [
    "audience.more",
    "chat.delete",
    "chat.more",
    "chat.mute",
    "chat.send",
    "chat.settings",
    "chat.unmute",
    "hand.lower",
    "hand.raise",
    "media.answer",
    "media.candidate",
    "media.leave",
    "media.listen",
    "media.publish",
    "member.remove",
    "moderator.grant",
    "moderator.revoke",
    "mute.force",
    "mute.set",
    "ping",
    "reaction",
    "record.consent",
    "recording.set",
    "room.end",
    "room.leave",
    "signal",
    "snapshot.request",
    "speaker.accept",
    "speaker.decline",
    "speaker.invite",
    "speaker.leave",
    "speaker.remove"
  ],
  "server": [
    "audience.page",
    "chat.deleted",
    "chat.message",
    "chat.muted",
    "chat.page",
    "error",
    "media.answer",
    "media.hangup",
    "media.mode",
    "media.offer",
    "member.joined",
    "member.left",
    "member.updated",
    "members.batch",
    "pong",
    "reaction",
    "recording.changed",
    "room.ended",
    "room.snapshot",
    "room.updated",
    "signal",
    "speaker.invited",
    "speaking"
  ],
  "numbered": [
    "media.mode",
    "member.joined",
    "member.left",
    "member.updated",
    "members.batch",
    "recording.changed",
    "room.ended",
    "room.updated"
  ]
});

export const NOTIFICATION = Object.freeze({
  "path": "/ws/notifications/",
  "client": [
    "hallway.watch",
    "ping"
  ],
  "server": [
    "error",
    "hallway.changed",
    "notification.created",
    "pong",
    "unread.count"
  ],
  "numbered": []
});

export const ROLES = Object.freeze([
  "moderator",
  "speaker",
  "listener"
]);

export const STAGE_ROLES = Object.freeze([
  "moderator",
  "speaker"
]);

export const REACTIONS = Object.freeze([
  "👏",
  "❤️",
  "😂",
  "🔥",
  "💯",
  "🙌",
  "👍",
  "🎉",
  "😮",
  "🤔"
]);
