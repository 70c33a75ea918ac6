// @ts-check
// Draws the room from its state: the stage, raised hands, the audience, the control bar,
// and a menu per person with what the reader may do to them.

import { REACTIONS as DECLARED_REACTIONS } from "../protocol.js";
import { inviteCopy, recordingMenuLabel } from "./recording.js";
import { onStage } from "./state.js";
import { out } from "./frames.js";

const PALETTE_SIZE = 8;
// The reactions the control bar offers, with what a screen reader says: five of those the
// server takes (protocol.js); one it stopped taking drops out.
export const REACTIONS = [
  ["👏", "Applause"],
  ["❤️", "Love"],
  ["😂", "Laughing"],
  ["🔥", "Fire"],
  ["🙌", "Raised hands"],
].filter(([emoji]) => DECLARED_REACTIONS.includes(emoji));
const ROLE_LABELS = { moderator: "Moderator", speaker: "Speaker", listener: "Listener" };
const SVG = (paths) =>
  `<svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${paths}</svg>`;
const ICONS = {
  muted: SVG(
    '<path d="M2 2l20 20"/><path d="M18.9 13a7 7 0 0 0 .1-1v-2"/><path d="M5 10v2a7 7 0 0 0 12 5"/><path d="M15 9.3V5a3 3 0 0 0-5.7-1.3"/><path d="M9 9v3a3 3 0 0 0 5.1 2.1"/><path d="M12 19v3"/>',
  ),
  hand: SVG(
    '<path d="M18 11V6a2 2 0 0 0-4 0v5"/><path d="M14 10V4a2 2 0 0 0-4 0v6"/><path d="M10 10.5V6a2 2 0 0 0-4 0v8"/><path d="M18 8a2 2 0 1 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.9-6-2.4l-3.6-3.6a2 2 0 0 1 2.8-2.8L7 15"/>',
  ),
};

function badge(className, icon) {
  const node = element("span", className);
  node.innerHTML = ICONS[icon];
  return node;
}

// The same colour for a person's initial as the server's avatar tag (CRC-32 of the username).
function crc32(text) {
  let crc = -1;
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ -1) >>> 0;
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function avatar(user, size) {
  if (user.avatar_url) {
    const image = element("img", `avatar avatar-${size}`);
    image.src = user.avatar_url;
    image.alt = "";
    return image;
  }
  const initial = element(
    "span",
    `avatar avatar-initial avatar-${size} avatar-c${crc32(user.username) % PALETTE_SIZE}`,
    (user.display_name || user.username).slice(0, 1).toUpperCase(),
  );
  initial.setAttribute("aria-hidden", "true");
  return initial;
}

export class RoomView {
  // marks: { speaking(userId), reconnecting(userId), condition() }, from the media transport.
  // actions: { send(frame), block(user), report(user), follow(user, on), relation(user) }
  constructor(root, { state, marks, actions }) {
    this.root = root;
    this.state = state;
    this.marks = marks;
    this.actions = actions;
    this.part = (name) => root.querySelector(`[data-${name}]`);
    this.announcer = this.part("announcer");
    this.buildReactions();
  }

  buildReactions() {
    for (const [emoji, label] of REACTIONS) {
      const button = element("button", "reaction-button", emoji);
      button.type = "button";
      button.setAttribute("aria-label", `React: ${label}`);
      button.title = label;
      button.addEventListener("click", () => this.actions.send(out.reaction(emoji)));
      this.part("reactions").append(button);
    }
  }

  announce(text) {
    // A fresh node each time, so screen readers read repeated messages too.
    const line = element("p", "", text);
    this.announcer.replaceChildren(line);
  }

  status(text, { error = false } = {}) {
    const node = this.part("status");
    node.textContent = text;
    node.hidden = !text;
    node.classList.toggle("room-status--error", error);
  }

  render() {
    // Once the room is over for the reader, only the card stays, whatever answers late.
    if (this.over) return;
    const state = this.state;
    const me = state.me;
    this.part("body").hidden = false;
    this.part("bar").hidden = false;
    // Moderators see raised hands in their own list, in the order they went up.
    const hands = state.iModerate ? state.hands() : [];
    const listeners = state.iModerate ? state.audience() : [...state.hands(), ...state.audience()];
    const followed = listeners.filter((m) => state.followedByStage.has(m.user.id));
    this.renderTiles(this.part("stage"), state.stage());
    this.renderHands(hands);
    this.part("hands-section").hidden = hands.length === 0;
    this.part("hands-count").textContent = hands.length ? `(${hands.length})` : "";
    this.renderTiles(this.part("followed"), followed);
    this.part("followed-section").hidden = followed.length === 0;
    this.renderTiles(
      this.part("audience"),
      listeners.filter((m) => !state.followedByStage.has(m.user.id)),
    );
    // Everyone listening, those listed above (raised hands, followed by the speakers) too.
    const count = state.audienceCount;
    this.part("audience-count").textContent = `(${count})`;
    const above = hands.length + followed.length;
    const note = this.part("audience-above");
    note.hidden = above === 0;
    note.textContent = above === count ? "All of them are listed above." : `${above} of them listed above.`;
    this.part("audience-empty").hidden = count > 0;
    const known = state.hands().length + state.audience().length;
    this.root.querySelector("[data-action=more]").hidden = known >= count;
    this.renderBar(me);
    this.renderInvite(me);
    this.renderRecording();
  }

  // The REC badge, and the moderators' switch in the room's menu.
  renderRecording() {
    const recording = this.state.recording;
    this.part("recording-badge").hidden = !recording;
    const item = this.root.querySelector("[data-action=recording]");
    item.hidden = !this.state.iModerate;
    item.textContent = recordingMenuLabel(recording);
  }

  renderBar(me) {
    const stage = onStage(me);
    const hand = this.root.querySelector("[data-action=hand]");
    hand.hidden = stage || !me;
    hand.setAttribute("aria-pressed", String(Boolean(me?.hand_raised)));
    hand.textContent = me?.hand_raised ? "Lower hand" : "Raise hand";
    const mute = this.root.querySelector("[data-action=mute]");
    mute.hidden = !stage;
    mute.setAttribute("aria-pressed", String(Boolean(me?.muted)));
    mute.textContent = me?.muted ? "Unmute" : "Mute";
    mute.classList.toggle("button--ghost", !me?.muted);
    this.root.querySelector("[data-action=leave-stage]").hidden = !stage;
    this.root.querySelector("[data-action=end]").hidden = !this.state.iModerate;
  }

  renderInvite(me) {
    const box = this.part("invite");
    const invited = Boolean(me?.invited) && !onStage(me);
    // A recording room says so before anyone comes on stage; accepting is agreeing.
    const copy = inviteCopy(this.state.recording);
    const note = this.part("invite-recording");
    note.textContent = copy.note;
    note.hidden = !copy.note;
    box.querySelector("[data-action=accept]").textContent = copy.accept;
    if (invited && box.hidden) {
      box.hidden = false;
      box.querySelector("[data-action=accept]").focus();
    }
    box.hidden = !invited;
  }

  showInviteFrom(user) {
    this.part("invite-text").textContent = `${user.display_name} invites you to speak.`;
  }

  renderTiles(list, members) {
    const existing = new Map([...list.children].map((node) => [Number(node.dataset.userId), node]));
    for (const member of members) {
      const node = existing.get(member.user.id) ?? this.tile(member.user);
      existing.delete(member.user.id);
      this.fillTile(node, member);
      list.append(node);
    }
    for (const node of existing.values()) node.remove();
  }

  tile(user) {
    const node = element("li", "tile");
    node.dataset.userId = String(user.id);
    const menu = element("details", "tile__menu");
    const summary = element("summary", "tile__summary");
    const panel = element("div", "menu__panel tile__panel");
    menu.append(summary, panel);
    menu.addEventListener("toggle", () => {
      if (menu.open) this.fillMenu(panel, Number(node.dataset.userId));
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        summary.focus();
      }
    });
    node.append(menu);
    return node;
  }

  fillTile(node, member) {
    const { user } = member;
    const summary = node.querySelector("summary");
    const face = element("span", "tile__face");
    face.append(avatar(user, "lg"));
    const marks = [];
    if (onStage(member) && member.muted) {
      face.append(badge("tile__mute", "muted"));
      marks.push("muted");
    }
    if (member.hand_raised) {
      face.append(badge("tile__hand", "hand"));
      marks.push("hand raised");
    }
    const name = element("span", "tile__name", user.display_name);
    summary.replaceChildren(face, name);
    // The name a screen reader hears is the tile's visible words, then what only the
    // picture shows (the badges), then what pressing it does.
    if (member.role === "moderator") {
      summary.append(element("span", "tile__role", ROLE_LABELS.moderator));
    } else if (member.role === "speaker") {
      marks.unshift("speaker");
    }
    if (this.state.youBlocked.has(user.id)) {
      summary.append(element("span", "tile__flag", "Blocked"));
    }
    if (onStage(member) && member.connected === false) {
      summary.append(element("span", "tile__flag", "Connection lost"));
    }
    const reconnecting = element("span", "tile__flag tile__flag--reconnecting", "Reconnecting…");
    reconnecting.dataset.reconnecting = "";
    reconnecting.hidden = true;
    summary.append(reconnecting);
    if (user.id === this.state.myId) marks.unshift("you");
    summary.append(element("span", "visually-hidden", `${marks.map((mark) => `, ${mark}`).join("")}. Open menu`));
    node.dataset.role = member.role;
    this.markTile(node);
  }

  // Speaking rings and reconnecting marks, from the media transport.
  renderMarks() {
    for (const node of this.part("stage").children) this.markTile(node);
    this.renderAudioNote();
  }

  // What the page says of its audio, rather than silence: lost and coming back, or going
  // through a relay.
  renderAudioNote() {
    const node = this.part("audio-note");
    const { reconnecting, relayed } = this.marks.condition();
    let text = "";
    if (reconnecting) text = "Audio lost. Reconnecting…";
    else if (relayed) text = "Your network blocks a direct path: audio goes through a relay.";
    if (node.textContent !== text) node.textContent = text;
    node.hidden = !text;
    node.classList.toggle("room-status--error", reconnecting);
  }

  markTile(node) {
    const userId = Number(node.dataset.userId);
    const member = this.state.members.get(userId);
    const live = onStage(member) && !member.muted;
    node.classList.toggle("tile--speaking", live && this.marks.speaking(userId));
    const mark = node.querySelector("[data-reconnecting]");
    if (mark) mark.hidden = !(onStage(member) && this.marks.reconnecting(userId));
  }

  renderHands(hands) {
    const list = this.part("hands");
    list.replaceChildren(
      ...hands.map((member) => {
        const item = element("li", "hand");
        item.dataset.userId = String(member.user.id);
        item.append(avatar(member.user, "sm"), element("span", "hand__name", member.user.display_name));
        const blocked = this.state.youBlocked.has(member.user.id);
        const invite = element("button", "button button--small", member.invited ? "Invited" : "Invite to speak");
        invite.type = "button";
        invite.disabled = member.invited || blocked;
        invite.setAttribute("aria-label", `Invite ${member.user.display_name} to speak`);
        invite.addEventListener("click", () =>
          this.actions.send(out.speakerInvite(member.user.id)),
        );
        item.append(invite);
        return item;
      }),
    );
  }

  // The menu of what the reader may do to this person, built when it opens.
  fillMenu(panel, userId) {
    const member = this.state.members.get(userId);
    panel.replaceChildren();
    if (!member) return;
    const { user } = member;
    const item = (label, onClick, danger = false) => {
      const button = element("button", `menu__item${danger ? " menu__item--danger" : ""}`, label);
      button.type = "button";
      button.addEventListener("click", () => {
        panel.parentElement.open = false;
        onClick();
      });
      panel.append(button);
      return button;
    };
    const profile = element("a", "menu__item", "View profile");
    profile.href = `/u/${encodeURIComponent(user.username)}/`;
    profile.target = "_blank";
    profile.rel = "noopener";
    panel.append(profile);
    if (userId === this.state.myId) return;
    const blocked = this.state.youBlocked.has(userId);
    if (!blocked) this.addFollow(item, user);
    const send = (frame) => () => this.actions.send(frame(userId));
    const hostId = this.state.room?.host_id;
    if (this.state.iModerate) {
      if (!onStage(member)) {
        if (!member.invited && !blocked) item("Invite to speak", send(out.speakerInvite));
      } else {
        if (!member.muted) item("Mute", send(out.muteForce));
        if (userId !== hostId) item("Move to audience", send(out.speakerRemove));
      }
      if (member.role === "speaker") item("Make moderator", send(out.moderatorGrant));
      if (member.role === "moderator" && userId !== hostId) {
        item("Remove as moderator", send(out.moderatorRevoke));
      }
      if (userId !== hostId) item("Remove from room", send(out.memberRemove), true);
    }
    if (!blocked) item(`Block ${user.display_name}`, () => this.actions.block(user), true);
    item(`Report ${user.display_name}`, () => this.actions.report(user), true);
  }

  // Follow or Unfollow, once the server said which (the button waits, disabled, till then);
  // gone when a block either way rules both out.
  addFollow(item, user) {
    let following = false;
    const button = item(`Follow ${user.display_name}`, () => this.actions.follow(user, !following));
    button.disabled = true;
    this.actions.relation(user).then(
      (relation) => {
        if (relation.you_blocked || relation.blocked_you) {
          button.remove();
          return;
        }
        following = relation.you_follow;
        button.textContent = `${following ? "Unfollow" : "Follow"} ${user.display_name}`;
        button.disabled = false;
      },
      () => button.remove(),
    );
  }

  react(userId, emoji) {
    const node = this.root.querySelector(`.tile[data-user-id="${userId}"] .tile__face`);
    if (!node) return;
    const bubble = element("span", "tile__reaction", emoji);
    bubble.setAttribute("aria-hidden", "true");
    node.append(bubble);
    setTimeout(() => bubble.remove(), 2500);
  }

  // `ended`: the room itself ended (not only for the reader), which its header says too.
  showOver(title, text, { ended = false } = {}) {
    this.over = true;
    this.part("body").hidden = true;
    this.part("bar").hidden = true;
    this.part("invite").hidden = true;
    this.root.querySelector("[data-action=end]").hidden = true;
    this.root.querySelector("[data-action=recording]").hidden = true;
    if (ended) {
      this.part("recording-badge").hidden = true;
      const tag = this.part("room-state");
      tag.textContent = "Ended";
      tag.classList.replace("tag--live", "tag--muted");
    }
    this.status("");
    this.part("over-title").textContent = title;
    this.part("over-text").textContent = text;
    this.part("over").hidden = false;
    this.announce(`${title}. ${text}`);
  }
}
