// @ts-check
// The room socket: connects, pings every 15 s, reconnects with backoff after a lost
// connection (at once when the server restarts), and hands every frame to the page.

import { CLOSE } from "../protocol.js";
import { out } from "./frames.js";

const PING_MS = 15000;
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 15000;
// A restarting server closes every socket at once: coming back within this spread keeps
// the members of a big room from all landing on the next process in the same instant.
const RESTART_SPREAD_MS = 500;

// Closes after which coming back would not help: not signed in, not allowed, no such room
// (or it ended), replaced by a newer tab. Leaving on purpose stops the socket first.
/** @type {Set<number>} */
export const FINAL_CLOSES = new Set([CLOSE.unauthenticated, CLOSE.forbidden, CLOSE.notFound, CLOSE.replaced]);

// After a close that is not final: how long to wait before coming back, and the backoff
// for the close after that (doubling up to RETRY_MAX_MS, each wait spread by ±25 %).
// `random` stands in for Math.random in tests.
export function nextRetry(code, delay, random = Math.random) {
  // Nothing went wrong: the place in the room is kept for a prompt return.
  if (code === CLOSE.restarting) return { wait: random() * RESTART_SPREAD_MS, delay };
  return { wait: delay * (0.75 + random() * 0.5), delay: Math.min(delay * 2, RETRY_MAX_MS) };
}

export class RoomSocket {
  constructor(url, { onFrame, onOpen, onClose }) {
    this.url = url;
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.delay = RETRY_MIN_MS;
    this.stopped = false;
    this.ws = null;
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.pinger = setInterval(() => this.send(out.ping()), PING_MS);
      this.onOpen();
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "room.snapshot") this.delay = RETRY_MIN_MS;
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      clearInterval(this.pinger);
      if (this.ws !== ws) return;
      this.ws = null;
      const final = this.stopped || FINAL_CLOSES.has(event.code);
      this.onClose(event.code, final);
      if (final) return;
      const { wait, delay } = nextRetry(event.code, this.delay);
      this.delay = delay;
      this.retry = setTimeout(() => this.connect(), wait);
    });
  }

  send(frame) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // Stops for good (leaving, or the room is over).
  stop() {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.pinger);
    this.ws?.close(1000);
  }
}
