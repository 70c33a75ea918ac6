// @ts-check
// The room's chat: a panel beside the stage (a sheet on phones). Text is shown as written:
// every piece goes in through textContent, and only http(s) addresses become links. Each
// piece a person wrote (a name, a quote, a link) is isolated from the text around it, so a
// direction override in one cannot make another read backwards, and a link shows the host
// it goes to, without any `user:password@` in front that could pass for another host.

import { avatar, element } from "./view.js";
import { out } from "./frames.js";

const LINK = /https?:\/\/[^\s<>"']+/g;
const MENTION = /(^|[^\w@.])@([A-Za-z0-9_]{2,30})\b/g;
const MODES = { on: "Everyone may write", stage: "Only people on stage may write", off: "Chat is off" };

// A text node per plain run, an <a> per http(s) address; `@name` runs marked as mentions.
function richText(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    fragment.append(...mentions(text.slice(last, match.index)));
    fragment.append(...link(match[0]));
    last = match.index + match[0].length;
  }
  fragment.append(...mentions(text.slice(last)));
  return fragment;
}

// The nodes for one address: a link, then any trailing punctuation as text.
function link(address) {
  // Trailing punctuation belongs to the sentence, not the address.
  const trimmed = address.replace(/[.,;:!?)\]]+$/, "");
  const url = URL.canParse(trimmed) ? new URL(trimmed) : null;
  if (!url || !["http:", "https:"].includes(url.protocol)) return [document.createTextNode(address)];
  url.username = "";
  url.password = "";
  // The address as the browser will go to it: the real host (in punycode when it is not
  // ASCII), left to right whatever surrounds it.
  const anchor = element("a", "chat-link", url.href);
  anchor.dir = "ltr";
  anchor.href = url.href;
  anchor.rel = "noopener nofollow ugc";
  anchor.target = "_blank";
  return [anchor, document.createTextNode(address.slice(trimmed.length))];
}

function mentions(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const start = match.index + match[1].length;
    nodes.push(document.createTextNode(text.slice(last, start)));
    const mention = element("span", "chat-mention", `@${match[2]}`);
    mention.dir = "ltr";
    nodes.push(mention);
    last = start + match[2].length + 1;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes.flat();
}

export class ChatPanel {
  // actions: { send(frame), report({message, user}) }
  constructor(root, { state, myId, actions }) {
    this.root = root;
    this.state = state;
    this.myId = myId;
    this.actions = actions;
    this.list = root.querySelector("[data-chat-list]");
    this.form = root.querySelector("[data-chat-form]");
    this.input = this.form.querySelector("[data-chat-input]");
    this.error = root.querySelector("[data-chat-error]");
    this.replyBox = root.querySelector("[data-chat-reply]");
    this.settings = root.querySelector("[data-chat-settings]");
    this.mutedBox = root.querySelector("[data-chat-muted]");
    this.messages = new Map(); // id → its <li>
    this.payloads = new Map(); // id → the message as the server sent it
    this.muted = new Set();
    this.hasMore = false;
    this.loadingOlder = false;
    this.replyTo = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.submit();
      }
    });
    this.list.addEventListener("scroll", () => {
      if (this.list.scrollTop < 40) this.loadOlder();
    });
    this.list.addEventListener("click", (event) => this.onClick(event));
    root.querySelector("[data-chat-reply-cancel]").addEventListener("click", () => this.setReply(null));
    this.settings.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      this.actions.send(out.chatSettings(form.mode.value, Number(form.slow_seconds.value) || 0));
    });
  }

  // After every snapshot: the newest page again, and the settings as the room has them.
  start() {
    this.actions.send(out.chatMore());
    this.render();
  }

  receive(frame) {
    if (frame.type === "chat.page") {
      this.addPage(frame);
    } else if (frame.type === "chat.message") {
      if (this.state.youBlocked.has(frame.message.user.id)) return;
      const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 60;
      this.put(frame.message);
      this.list.append(this.messages.get(frame.message.id));
      if (atBottom || frame.message.user.id === this.myId) this.list.scrollTop = this.list.scrollHeight;
    } else if (frame.type === "chat.deleted") {
      this.messages.get(frame.id)?.remove();
      this.messages.delete(frame.id);
      this.payloads.delete(frame.id);
    } else if (frame.type === "chat.muted") {
      if (frame.muted) this.muted.add(frame.user_id);
      else this.muted.delete(frame.user_id);
      this.render();
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  addPage(page) {
    const older = this.messages.size > 0 && this.loadingOlder;
    this.loadingOlder = false;
    this.hasMore = page.has_more;
    this.muted = new Set(page.muted);
    if (!older) {
      this.messages.clear();
      this.payloads.clear();
      this.list.replaceChildren();
    }
    const height = this.list.scrollHeight;
    const nodes = page.messages
      .filter((message) => !this.messages.has(message.id) && !this.state.youBlocked.has(message.user.id))
      .map((message) => {
        this.put(message);
        return this.messages.get(message.id);
      });
    this.list.prepend(...nodes);
    this.list.scrollTop = older ? this.list.scrollHeight - height : this.list.scrollHeight;
    this.render();
  }

  loadOlder() {
    if (!this.hasMore || this.loadingOlder || this.messages.size === 0) return;
    this.loadingOlder = true;
    this.actions.send(out.chatMore(Math.min(...this.messages.keys())));
  }

  put(message) {
    const item = element("li", "chat-message");
    item.dataset.messageId = message.id;
    item.dataset.author = message.user.username;
    if (message.mentions.includes(this.myId)) item.classList.add("chat-message--mentions-me");
    const head = element("div", "chat-message__head");
    head.append(avatar(message.user, "sm"), element("bdi", "chat-message__name", message.user.display_name));
    const time = element("time", "chat-message__time", new Date(message.created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    time.dateTime = message.created;
    head.append(time);
    item.append(head);
    if (message.reply_to) {
      const quote = element("p", "chat-message__quote");
      if (message.reply_to.deleted) {
        quote.textContent = "In reply to a deleted message";
      } else {
        quote.append(element("bdi", "", message.reply_to.user.display_name), ": ", element("bdi", "", message.reply_to.text));
      }
      item.append(quote);
    }
    const body = element("p", "chat-message__text");
    body.dir = "auto";
    body.append(richText(message.text));
    item.append(body, this.tools(message));
    this.messages.set(message.id, item);
    this.payloads.set(message.id, message);
  }

  tools(message) {
    const tools = element("div", "chat-message__tools");
    const mine = message.user.id === this.myId;
    const add = (action, label) => {
      const button = element("button", "chat-tool", label);
      button.type = "button";
      button.dataset.chatAction = action;
      tools.append(button);
    };
    add("reply", "Reply");
    if (!mine) add("report", "Report");
    if (mine || this.state.iModerate) add("delete", "Delete");
    if (!mine && this.state.iModerate) add("mute", "Mute in chat");
    return tools;
  }

  onClick(event) {
    const button = event.target.closest("[data-chat-action]");
    if (!button) return;
    const message = this.payloads.get(Number(button.closest("[data-message-id]").dataset.messageId));
    const action = button.dataset.chatAction;
    if (action === "reply") {
      this.setReply(message);
    } else if (action === "report") {
      this.actions.report({ message });
    } else if (action === "delete") {
      this.actions.send(out.chatDelete(message.id));
    } else if (action === "mute") {
      this.actions.send(out.chatMute(message.user.id));
    }
  }

  setReply(message) {
    this.replyTo = message;
    this.replyBox.hidden = !message;
    this.replyBox.querySelector("[data-chat-reply-text]").textContent = message
      ? `Replying to ${message.user.display_name}`
      : "";
    if (message) this.input.focus();
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.error.hidden = true;
    this.actions.send(out.chatSend(text, this.replyTo?.id));
    this.input.value = "";
    this.setReply(null);
  }

  // The parts that follow the room's settings, the reader's role and who is muted.
  render() {
    const chat = this.state.room?.chat ?? { mode: "on", slow_seconds: 0 };
    const me = this.state.me;
    const onStage = me && me.role !== "listener";
    let reason = "";
    if (chat.mode === "off") reason = "The chat is off.";
    else if (chat.mode === "stage" && !onStage) reason = "Only people on stage can write now.";
    else if (this.muted.has(this.myId)) reason = "A moderator muted you in this chat.";
    this.input.disabled = Boolean(reason);
    this.input.placeholder = reason || (chat.slow_seconds ? `Slow mode: one message every ${chat.slow_seconds} s` : "Say something…");
    this.form.querySelector("button").disabled = Boolean(reason);
    this.root.querySelector("[data-chat-mode]").textContent = MODES[chat.mode] ?? "";
    this.settings.hidden = !this.state.iModerate;
    if (this.state.iModerate && /** @type {HTMLInputElement | null} */ (document.activeElement)?.form !== this.settings) {
      this.settings.mode.value = chat.mode;
      this.settings.slow_seconds.value = chat.slow_seconds;
    }
    this.renderMuted();
  }

  renderMuted() {
    this.mutedBox.hidden = !this.state.iModerate || this.muted.size === 0;
    const list = this.mutedBox.querySelector("ul");
    list.replaceChildren(
      ...[...this.muted].map((userId) => {
        const member = this.state.members.get(userId);
        const item = element("li", "chat-muted__person", member ? member.user.display_name : `#${userId}`);
        const lift = element("button", "chat-tool", "Unmute");
        lift.type = "button";
        lift.addEventListener("click", () => this.actions.send(out.chatUnmute(userId)));
        item.append(" ", lift);
        return item;
      }),
    );
  }
}
