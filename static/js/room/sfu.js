// @ts-check
// The media server, a media transport (see transport.js): the room's audio goes through the
// server's media server instead of browser to browser. The page never talks to the media
// server itself: descriptions and candidates travel as media.* frames over the room socket,
// and the server decides who may send.
//
// Each connection is a session with an id of ours. Everyone not on stage listens: one
// receive-only connection, offered by the server, that carries the stage's mix. Everyone on
// stage publishes: one connection, offered by us, that sends our voice and receives the mix
// of the others. When the role changes or a connection is lost, a new connection comes up
// first and takes over once it carries audio: it plays from then on, and the old one closes
// (make-before-break).

import {
  audioStats,
  capBitrate,
  Microphone,
  newSessionId,
  reconfigure,
  tuneOpus,
} from "./transport.js";
import { out } from "./frames.js";

// How often a listening connection that is up is checked for audio arriving.
const STATS_MS = 250;
// A listening connection up this long without audio takes over anyway: a silent stage may
// send nothing.
const QUIET_MS = 3000;
// A connection that does not carry audio this long after it was asked for is started over.
const SETUP_MS = 15000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;
// Hangups after which there is nothing to start over: the room is over for us, or a newer
// connection (another tab) took our place.
const FINAL_HANGUPS = new Set(["ended", "removed", "replaced"]);

class Session {
  constructor(sfu, kind) {
    this.sfu = sfu;
    this.id = newSessionId();
    this.kind = kind; // "listen" or "publish"
    this.ready = false;
    this.connectedAt = null;
    this.transceiver = null;
    this.stream = null; // what we hear through it, played once it takes over
    const pc = new RTCPeerConnection(sfu.rtcConfig);
    this.pc = pc;
    pc.addEventListener("icecandidate", ({ candidate: found }) => {
      const { candidate, sdpMid, sdpMLineIndex } = found ?? {};
      const init = found ? { candidate, sdpMid, sdpMLineIndex } : null; // null: no more
      this.send(out.mediaCandidate(this.id, init));
    });
    pc.addEventListener("track", ({ track, streams }) => {
      this.stream = streams[0] ?? new MediaStream([track]);
      if (this.ready) sfu.playback.attach(this.id, this.stream);
    });
    pc.addEventListener("connectionstatechange", () => sfu.changed(this));
    this.setupTimer = setTimeout(() => sfu.fail(this), SETUP_MS);
  }

  send(frame) {
    this.sfu.send(frame);
  }

  // Our offer: one audio section that sends our voice and receives the others'.
  async publish(track) {
    this.transceiver = this.pc.addTransceiver(track ?? "audio", { direction: "sendrecv" });
    await this.pc.setLocalDescription();
    this.send(out.mediaPublish(this.id, this.pc.localDescription.sdp));
  }

  // The server's descriptions get the Opus settings for voice, as the mesh's peers' do.
  async accept(sdp) {
    await this.pc.setRemoteDescription({ type: "answer", sdp: tuneOpus(sdp) });
    await capBitrate(this.transceiver.sender);
  }

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: "offer", sdp: tuneOpus(sdp) });
    await this.pc.setLocalDescription();
    this.send(out.mediaAnswer(this.id, this.pc.localDescription.sdp));
  }

  async setVoice(track) {
    await this.transceiver?.sender.replaceTrack(track);
  }

  close({ tell }) {
    clearTimeout(this.setupTimer);
    if (tell) this.send(out.mediaLeave(this.id));
    this.pc.close();
    this.sfu.playback.detach(this.id);
  }
}

export class Sfu extends EventTarget {
  constructor({ myId, send, playback, rtcConfig }) {
    super();
    this.mode = "sfu";
    this.myId = myId;
    this.send = send;
    this.playback = playback;
    this.rtcConfig = rtcConfig;
    this.sessions = new Map();
    this.current = null; // the newest connection, the one our role calls for
    this.joined = false;
    this.onStage = false;
    this.mic = new Microphone();
    this.talking = new Set(); // who the server says speaks now
    this.interrupted = false; // no connection carries audio since one was lost
    this.relayed = false; // the connection in use goes through a TURN relay
    this.restarts = 0;
    this.delay = RETRY_MIN_MS;
    this.retryTimer = null;
    this.statsTimer = null;
  }

  join() {
    this.joined = true;
    this.statsTimer = setInterval(() => this.watch(), STATS_MS);
    this.connect();
  }

  // The server may have ended our connections with the socket that asked for them.
  rejoin() {
    if (this.joined) this.connect();
  }

  // The server knows the stage; nothing here depends on the roster.
  sync() {}

  // A new connection for what our role calls for. Connections that never carried audio go
  // now; one that does stays until the new one takes over.
  connect() {
    clearTimeout(this.retryTimer);
    for (const session of [...this.sessions.values()]) {
      if (!session.ready) this.close(session, { tell: true });
    }
    const session = new Session(this, this.onStage ? "publish" : "listen");
    this.sessions.set(session.id, session);
    this.current = session;
    if (session.kind === "listen") {
      session.send(out.mediaListen(session.id));
      return;
    }
    // With our voice in it (or without, when the microphone is refused: we still hear the
    // stage), so that the connection it replaces goes only once we are heard.
    this.mic
      .take()
      .catch(() => null)
      .then((stream) => {
        if (this.sessions.has(session.id)) return session.publish(stream?.getAudioTracks()[0]);
      })
      .catch((error) => this.failed(session, error));
  }

  close(session, { tell }) {
    session.close({ tell });
    this.sessions.delete(session.id);
    if (this.current === session) this.current = null;
  }

  takeOver(session) {
    clearTimeout(session.setupTimer);
    session.ready = true;
    if (session.stream) this.playback.attach(session.id, session.stream);
    for (const other of [...this.sessions.values()]) {
      if (other !== session) this.close(other, { tell: true });
    }
    this.delay = RETRY_MIN_MS;
    this.setInterrupted(false);
    this.dispatchEvent(new Event("ready"));
  }

  changed(session) {
    const state = session.pc.connectionState;
    if (state === "connected") {
      session.connectedAt ??= performance.now();
      if (session.ready) this.setInterrupted(false);
      else if (session === this.current && session.kind === "publish") this.takeOver(session);
    } else if (state === "disconnected" && session.ready) {
      this.setInterrupted(true);
    } else if (state === "failed") {
      this.fail(session);
    }
  }

  // Every tick: whether the connection in use is relayed, and, while a new one is up but has
  // not taken over, whether audio arrives on it.
  async watch() {
    const session = this.current;
    if (!session || session.connectedAt === null) return;
    const { received, route } = await audioStats(session.pc);
    if (session === this.current && (route?.local === "relay") !== this.relayed) {
      this.relayed = !this.relayed;
      this.dispatchEvent(new Event("marks"));
    }
    if (session.ready) return;
    const quiet = performance.now() - session.connectedAt > QUIET_MS;
    if (session === this.current && !session.ready && (received > 0 || quiet)) {
      this.takeOver(session);
    }
  }

  failed(session, error) {
    console.warn("media connection", session.id, "failed:", error);
    this.fail(session);
  }

  // A connection that failed or never came up is closed; when it was the one our role calls
  // for, a new one follows after a while (longer each time, until one works).
  fail(session) {
    if (!this.sessions.has(session.id)) return;
    const wasCurrent = session === this.current;
    this.close(session, { tell: true });
    if (![...this.sessions.values()].some((other) => other.ready)) this.setInterrupted(true);
    if (wasCurrent) this.retryLater();
  }

  retryLater() {
    clearTimeout(this.retryTimer);
    this.restarts += 1;
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  hangup({ session: id, reason }) {
    const session = this.sessions.get(id);
    if (!session) return;
    const wasCurrent = session === this.current;
    this.close(session, { tell: false });
    if (!wasCurrent || FINAL_HANGUPS.has(reason)) return;
    if (reason === "moved_to_audience" && this.onStage) {
      // The news of our new role may still be on its way; the server knows it already.
      this.unpublish();
    } else if (reason === "moved_to_audience") {
      this.connect();
    } else {
      this.setInterrupted(true);
      this.retryLater();
    }
  }

  receive(frame) {
    if (frame.type === "speaking") {
      this.talking = new Set(frame.user_ids);
      this.dispatchEvent(new Event("marks"));
      return;
    }
    if (frame.type === "media.hangup") {
      this.hangup(frame);
      return;
    }
    const session = this.sessions.get(frame.session);
    if (!session) return;
    if (frame.type === "media.offer" && session.kind === "listen") {
      session.answer(frame.sdp).catch((error) => this.failed(session, error));
    } else if (frame.type === "media.answer" && session.kind === "publish") {
      // Janus's candidates are in its descriptions: the server sends none on their own.
      session.accept(frame.sdp).catch((error) => this.failed(session, error));
    }
  }

  // Going on stage: a publishing connection. The promise rejects when the microphone is
  // refused.
  async publish() {
    if (this.onStage) return;
    this.onStage = true;
    if (this.joined) this.connect();
    await this.mic.take();
  }

  // Leaving the stage: our voice stops at once and the microphone is released; the
  // publishing connection goes once the listening one takes over.
  async unpublish() {
    if (!this.onStage) return;
    this.onStage = false;
    this.mic.release();
    if (this.joined) this.connect();
    for (const session of this.sessions.values()) {
      if (session.kind === "publish") await session.setVoice(null);
    }
  }

  setMuted(muted) {
    this.mic.setMuted(muted);
  }

  setInterrupted(interrupted) {
    if (interrupted === this.interrupted) return;
    this.interrupted = interrupted;
    this.dispatchEvent(new Event("marks"));
  }

  speaking(userId) {
    return this.talking.has(userId);
  }

  // While no connection carries audio, we hear no one on stage.
  reconnecting(userId) {
    return this.interrupted && userId !== this.myId;
  }

  condition() {
    return { reconnecting: this.interrupted, relayed: this.relayed };
  }

  reconfigure() {
    for (const session of this.sessions.values()) reconfigure(session.pc, this.rtcConfig);
  }

  leave() {
    this.joined = false;
    this.onStage = false;
    clearInterval(this.statsTimer);
    clearTimeout(this.retryTimer);
    for (const session of [...this.sessions.values()]) this.close(session, { tell: true });
    this.mic.release();
  }

  async inspect() {
    const connections = [];
    for (const session of [...this.sessions.values()]) {
      connections.push({
        kind: session.kind,
        session: session.id,
        ready: session.ready,
        signaling: session.pc.signalingState,
        ...(await audioStats(session.pc)),
      });
    }
    return {
      mode: this.mode,
      connections,
      mic: this.mic.inspect(),
      speaking: [...this.talking],
      reconnecting: this.interrupted,
      restarts: this.restarts,
    };
  }

  // "fail": the connection our role calls for fails, as when the network drops.
  async simulate(scenario) {
    if (scenario !== "fail" || !this.current) throw new Error(`No such scenario: ${scenario}.`);
    this.fail(this.current);
  }
}
