// The header bell: keeps the unread badge live over /ws/notifications/ and shows a toast
// when a room someone follows starts or is about to. Plain ES module, no build step.

import { localTime } from "./local-time.js";
import { CLOSE } from "./protocol.js";

import { onEveryPage } from "./pages.js";

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const PING_MS = 25000;
const TOAST_MS = 12000;
const TOASTED_KINDS = new Set([
  "room_started",
  "room_reminder",
  "speaker_invite",
  "room_rescheduled",
  "room_cancelled",
]);
// Signed out, or dropped by staff: coming back would be refused. A server process that
// stops says so (4012): come back at once, within a spread. Every other close (the server
// busy, 4500/4503; too many sockets, 4429) is worth a later retry.
const FINAL_CLOSES = new Set([CLOSE.unauthenticated, CLOSE.forbidden]);
const RESTART_SPREAD_MS = 500;

// One socket for the document; the bell and the toasts of whichever page shows (Turbo swaps
// pages, navigation.js), where toasts still up move along.
let bell = null;
let toasts = null;
let started = false;
let socket = null;

// The hallway wants to hear the moment an open room starts or ends: the socket says so
// when it opens on the hallway, or when the hallway is visited later (it keeps listening).
function watchHallway() {
  if (socket?.readyState === WebSocket.OPEN && document.querySelector("[data-hallway-rooms]")) {
    socket.send(JSON.stringify({ type: "hallway.watch" }));
  }
}

onEveryPage(() => {
  const pageBell = document.querySelector("[data-notifications]");
  if (!pageBell) return;
  const pageToasts = document.querySelector("[data-toasts]");
  if (toasts) pageToasts.append(...toasts.children);
  // The sticky header blurs what is behind it, which pins fixed children to the header.
  document.body.append(pageToasts);
  bell = pageBell;
  toasts = pageToasts;
  if (!started) {
    started = true;
    startNotifications();
  }
  watchHallway();
});

function startNotifications() {
  const seen = new Set();
  let delay = RECONNECT_MIN_MS;
  let pinger = null;

  function setCount(count) {
    const badge = bell.querySelector("[data-unread-count]");
    badge.firstChild.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count === 0;
    bell.setAttribute("aria-label", count ? `Notifications, ${count} unread` : "Notifications");
  }

  function toast(notification) {
    const item = document.createElement("div");
    item.className = "toast";
    item.setAttribute("role", "status");
    const text = document.createElement("span");
    text.className = "toast__text";
    text.append(notification.text, ...startsAt(notification), " ");
    const link = document.createElement("a");
    link.href = `/notifications/${notification.id}/open/`;
    link.textContent = notification.kind === "room_started" ? "Join" : "Open";
    text.append(link);
    const close = document.createElement("button");
    close.className = "toast__close";
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(text, close);
    toasts.append(item);
    setTimeout(() => item.remove(), TOAST_MS);
  }

  function onFrame(frame) {
    if (frame.type === "unread.count") {
      setCount(frame.count);
    } else if (frame.type === "notification.created") {
      const notification = frame.notification;
      // A fan-out that ran twice pushes twice; each notification is shown once.
      if (seen.has(notification.id)) return;
      seen.add(notification.id);
      if (TOASTED_KINDS.has(notification.kind)) toast(notification);
      prependToInbox(notification);
      document.dispatchEvent(new CustomEvent("roundtable:notification", { detail: notification }));
    } else if (frame.type === "hallway.changed") {
      document.dispatchEvent(new CustomEvent("roundtable:hallway-changed"));
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${bell.dataset.notifications}`);
    socket.addEventListener("open", () => {
      delay = RECONNECT_MIN_MS;
      pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_MS);
      watchHallway();
    });
    socket.addEventListener("message", (event) => {
      try {
        onFrame(JSON.parse(event.data));
      } catch (error) {
        console.warn("Ignored a notification frame that is not JSON.", error);
      }
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      if (FINAL_CLOSES.has(event.code)) return;
      if (event.code === CLOSE.restarting) {
        setTimeout(connect, Math.random() * RESTART_SPREAD_MS);
        return;
      }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    });
  }

  connect();
}

// " · starts <time>" for a notification about a room still to come (as the inbox says it),
// in the reader's zone and clock; nothing for one that started or was cancelled.
function startsAt(notification) {
  const when = notification.room?.scheduled_for;
  if (!when || ["room_started", "room_cancelled"].includes(notification.kind)) return [];
  return [" · starts ", localTime(when)];
}

// The inbox's list; on an inbox that was empty, a new one in place of "Nothing yet".
function inboxList() {
  const inbox = document.querySelector("[data-inbox]");
  if (inbox) return inbox;
  const empty = document.querySelector("[data-inbox-empty]");
  if (!empty) return null;
  const list = document.createElement("ul");
  list.className = "inbox";
  list.dataset.inbox = "";
  empty.replaceWith(list);
  return list;
}

// On /notifications/, a new notification appears at the top of the list as it arrives.
function prependToInbox(notification) {
  const inbox = inboxList();
  if (!inbox) return;
  const item = document.createElement("li");
  item.className = "inbox__item inbox__item--unread";
  item.dataset.kind = notification.kind;
  const icon = document.createElement("span");
  icon.className = `inbox__icon inbox__icon--${notification.kind}`;
  icon.setAttribute("aria-hidden", "true");
  const link = document.createElement("a");
  link.className = "inbox__link";
  link.href = `/notifications/${notification.id}/open/`;
  const text = document.createElement("span");
  text.className = "inbox__text";
  text.textContent = notification.text;
  const when = document.createElement("span");
  when.className = "muted inbox__when";
  when.append("just now", ...startsAt(notification));
  link.append(text, when);
  item.append(icon, link);
  inbox.prepend(item);
}
