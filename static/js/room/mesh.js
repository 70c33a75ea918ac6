// @ts-check
// The audio mesh, a media transport (see transport.js): one RTCPeerConnection per peer, as
// the server allows them: people on stage connect to everyone, listeners only to people on
// stage.
//
// Each connection follows the "perfect negotiation" pattern, so either side may
// renegotiate at any time without glare: the side with the higher user id is polite and
// rolls back its own offer when both offer at once. Every signal names the connection that
// sent it (`session`), so a peer that started over (a reload, a lost connection) is told
// apart from the connection we are talking to, and we start over with it. The Opus
// settings go on the peer's descriptions as they are applied (tuneOpus); our own are made and
// set in one step, as perfect negotiation needs.

import { onStage } from "./state.js";
import {
  audioStats,
  capBitrate,
  Microphone,
  newSessionId,
  reconfigure,
  SPEAKING_LEVEL,
  tuneOpus,
} from "./transport.js";
import { out } from "./frames.js";

// A listener whose connection got no offer this long asks for one itself.
const NUDGE_MS = 3000;
// An unmuted speaker who sends nothing this long gets their connection restarted.
const STALL_MS = 5000;
const STATS_MS = 1000;
// A peer we connected to because their signal came before the news that they went on stage
// is kept this long even when the roster says no edge.
const ADOPTION_MS = 5000;

class Peer {
  constructor(mesh, userId) {
    this.mesh = mesh;
    this.userId = userId;
    this.polite = mesh.myId > userId;
    this.session = newSessionId();
    this.remoteSession = null;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.transceiver = null; // ours, the one that carries our voice
    this.openedAt = performance.now();
    this.lastBytes = 0;
    this.lastProgress = performance.now();
    this.stalls = 0;
    this.level = 0;
    this.reconnecting = false;
    this.route = null; // the connection's path, from its statistics (transport.js: route)

    const pc = new RTCPeerConnection(mesh.rtcConfig);
    this.pc = pc;
    pc.addEventListener("negotiationneeded", () => this.offer());
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.send({ candidate: candidate.toJSON() });
    });
    pc.addEventListener("track", ({ track, streams }) => {
      mesh.playback.attach(userId, streams[0] ?? new MediaStream([track]));
    });
    // A connection whose every path failed (a network change) starts ICE over.
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState !== "failed") return;
      mesh.count(userId, "restarts");
      pc.restartIce();
    });
    this.nudge = setTimeout(() => this.askForOffer(), NUDGE_MS);
  }

  send(fields) {
    this.mesh.send(out.signal(this.userId, this.session, fields));
  }

  async offer() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ description: this.pc.localDescription.toJSON() });
    } catch (error) {
      console.warn("offer to", this.userId, "failed:", error);
    } finally {
      this.makingOffer = false;
    }
  }

  async receive({ description, candidate }) {
    const pc = this.pc;
    if (description) {
      const collision =
        description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      if (description.type === "answer" && pc.signalingState !== "have-local-offer") return;
      await pc.setRemoteDescription(
        description.sdp ? { type: description.type, sdp: tuneOpus(description.sdp) } : description,
      );
      if (description.type === "offer") {
        clearTimeout(this.nudge);
        await pc.setLocalDescription();
        this.send({ description: pc.localDescription.toJSON() });
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        if (!this.ignoreOffer) console.warn("candidate from", this.userId, "refused:", error);
      }
    }
  }

  // A connection with nothing to negotiate (we have no voice to send) asks for an offer by
  // making one that only receives.
  askForOffer() {
    if (this.pc.signalingState === "closed" || this.pc.remoteDescription) return;
    if (this.pc.getTransceivers().length === 0) {
      this.pc.addTransceiver("audio", { direction: "recvonly" });
    }
  }

  // Sends `track` (or stops sending with null) on this connection.
  async setVoice(track, stream) {
    if (track) {
      if (this.transceiver) {
        this.transceiver.direction = "sendrecv";
        await this.transceiver.sender.replaceTrack(track);
      } else {
        const sender = this.pc.addTrack(track, stream);
        this.transceiver = this.pc.getTransceivers().find((t) => t.sender === sender) ?? null;
      }
      await capBitrate(this.transceiver?.sender);
    } else if (this.transceiver) {
      await this.transceiver.sender.replaceTrack(null);
      this.transceiver.direction = "recvonly";
    }
  }

  close() {
    clearTimeout(this.nudge);
    this.pc.close();
  }
}

export class Mesh extends EventTarget {
  constructor({ myId, send, playback, rtcConfig }) {
    super();
    this.mode = "mesh";
    this.myId = myId;
    this.send = send;
    this.playback = playback;
    this.rtcConfig = rtcConfig;
    this.peers = new Map();
    this.members = new Map(); // the others in the room, by user id
    this.onStage = false;
    this.mic = new Microphone();
    this.myLevel = 0;
    this.counts = new Map(); // ICE restarts and rebuilt connections, by peer
    this.statsTimer = null;
  }

  join() {
    this.statsTimer = setInterval(() => this.watch(), STATS_MS);
  }

  // Each connection names its session in its signals: peers start over with us by themselves.
  rejoin() {}

  // The edges of the mesh from here: on stage, everyone; in the audience, the stage.
  sync(members) {
    this.members = new Map();
    for (const member of members) {
      if (member.user.id !== this.myId) this.members.set(member.user.id, member);
    }
    const allowed = new Set();
    for (const [userId, member] of this.members) {
      if (member.connected !== false && (this.onStage || onStage(member))) allowed.add(userId);
    }
    const now = performance.now();
    for (const [userId, peer] of this.peers) {
      if (!allowed.has(userId) && now - peer.openedAt > ADOPTION_MS) this.drop(userId);
    }
    for (const userId of allowed) {
      if (!this.peers.has(userId)) this.open(userId);
    }
  }

  // Whose voice should be arriving: connected, unmuted people on stage.
  expectsVoice(userId) {
    const member = this.members.get(userId);
    return onStage(member) && !member.muted && member.connected !== false;
  }

  open(userId) {
    const peer = new Peer(this, userId);
    this.peers.set(userId, peer);
    if (this.mic.stream) this.giveVoice(peer, this.mic.stream);
    return peer;
  }

  // One connection failing to take our voice (closed meanwhile) must not stop the others.
  async giveVoice(peer, stream) {
    try {
      await peer.setVoice(stream ? stream.getAudioTracks()[0] : null, stream);
    } catch (error) {
      console.warn("voice to", peer.userId, "failed:", error);
    }
  }

  drop(userId) {
    this.peers.get(userId)?.close();
    this.peers.delete(userId);
    this.playback.detach(userId);
  }

  reopen(userId) {
    this.drop(userId);
    return this.open(userId);
  }

  async receive(frame) {
    if (frame.type !== "signal") return;
    const { from, session, description, candidate } = frame;
    let peer = this.peers.get(from) ?? this.open(from);
    if (session && peer.remoteSession && peer.remoteSession !== session) {
      // They started over; so do we.
      peer = this.reopen(from);
      if (description?.type === "answer") {
        // An answer to an offer of the connection we just closed: offer anew.
        peer.remoteSession = session;
        if (!this.mic.stream) peer.askForOffer();
        return;
      }
    }
    if (session) peer.remoteSession = session;
    try {
      await peer.receive({ description, candidate });
    } catch (error) {
      console.warn("signal from", from, "failed:", error);
    }
  }

  // Going on stage: ask for the microphone (once) and send it to every peer.
  async publish() {
    if (this.onStage) return;
    this.onStage = true;
    const stream = await this.mic.take();
    if (!stream) return;
    for (const peer of this.peers.values()) await this.giveVoice(peer, stream);
  }

  // Leaving the stage: the microphone released, nothing sent to anyone.
  async unpublish() {
    if (!this.onStage) return;
    this.onStage = false;
    this.mic.release();
    for (const peer of this.peers.values()) await this.giveVoice(peer, null);
  }

  setMuted(muted) {
    this.mic.setMuted(muted);
  }

  count(userId, what) {
    const counts = this.counts.get(userId) ?? { restarts: 0, rebuilds: 0 };
    counts[what] += 1;
    this.counts.set(userId, counts);
  }

  // First an ICE restart; when that did not help, or nothing was ever set up to carry
  // their voice to us, a new connection (the peer starts over with us on its first signal).
  restart(userId, { rebuild = false } = {}) {
    const peer = this.peers.get(userId);
    if (!peer) return;
    peer.stalls += 1;
    peer.reconnecting = true;
    peer.lastProgress = performance.now();
    if (peer.stalls === 1 && !rebuild) {
      this.count(userId, "restarts");
      peer.pc.restartIce();
    } else {
      this.count(userId, "rebuilds");
      const fresh = this.reopen(userId);
      fresh.reconnecting = true;
      fresh.stalls = peer.stalls;
    }
  }

  // Every second: who is speaking, and whether an unmuted speaker's voice still arrives.
  async watch() {
    let changed = false;
    let myLevel = 0;
    for (const [userId, peer] of [...this.peers]) {
      if (peer.pc.signalingState === "closed") continue;
      const { received: bytes, level, micLevel, route } = await audioStats(peer.pc);
      if ((route?.local === "relay") !== (peer.route?.local === "relay")) changed = true;
      peer.route = route;
      myLevel = Math.max(myLevel, micLevel);
      const now = performance.now();
      const speaking = level > SPEAKING_LEVEL;
      if (speaking !== peer.level > SPEAKING_LEVEL) changed = true;
      peer.level = level;
      // Negotiated to carry their voice to us at all?
      const receiving = peer.pc
        .getTransceivers()
        .some((t) => t.currentDirection === "sendrecv" || t.currentDirection === "recvonly");
      const flowing = receiving && bytes > peer.lastBytes;
      if (flowing || !this.expectsVoice(userId)) {
        if (peer.reconnecting) changed = true;
        peer.reconnecting = false;
        peer.stalls = flowing ? 0 : peer.stalls;
        peer.lastProgress = now;
      } else if (now - peer.lastProgress > STALL_MS) {
        this.restart(userId, { rebuild: !receiving });
        changed = true;
      }
      peer.lastBytes = bytes;
    }
    const wasSpeaking = this.myLevel > SPEAKING_LEVEL;
    this.myLevel = this.mic.stream && !this.mic.muted ? myLevel : 0;
    if (changed || wasSpeaking !== this.myLevel > SPEAKING_LEVEL) {
      this.dispatchEvent(new Event("marks"));
    }
  }

  speaking(userId) {
    if (userId === this.myId) return this.myLevel > SPEAKING_LEVEL;
    return (this.peers.get(userId)?.level ?? 0) > SPEAKING_LEVEL;
  }

  reconnecting(userId) {
    return this.peers.get(userId)?.reconnecting ?? false;
  }

  condition() {
    const peers = [...this.peers.entries()];
    return {
      reconnecting: peers.some(([userId, peer]) => peer.reconnecting && this.expectsVoice(userId)),
      relayed: peers.some(([, peer]) => peer.route?.local === "relay"),
    };
  }

  reconfigure() {
    for (const peer of this.peers.values()) reconfigure(peer.pc, this.rtcConfig);
  }

  // Leaving, ending, being removed or moving to the media server: every connection closed,
  // every track stopped.
  leave() {
    clearInterval(this.statsTimer);
    this.onStage = false;
    for (const userId of [...this.peers.keys()]) this.drop(userId);
    this.mic.release();
  }

  // A connection per peer: its statistics, negotiation and how often it was restarted.
  async inspect() {
    const connections = [];
    for (const [userId, peer] of [...this.peers]) {
      connections.push({
        user: userId,
        session: peer.session,
        signaling: peer.pc.signalingState,
        directions: peer.pc.getTransceivers().map((t) => t.currentDirection),
        reconnecting: peer.reconnecting,
        restarts: 0,
        rebuilds: 0,
        ...this.counts.get(userId),
        ...(await audioStats(peer.pc)),
      });
    }
    return { mode: this.mode, connections, mic: this.mic.inspect() };
  }

  // "stall": our voice to that peer stops though we are not muted. "no-voice": that
  // connection is renegotiated to carry no voice at all.
  async simulate(scenario, userId) {
    const transceiver = this.peers.get(userId)?.transceiver;
    if (!transceiver) throw new Error(`No voice goes to ${userId}.`);
    if (scenario === "stall") await transceiver.sender.replaceTrack(null);
    else if (scenario === "no-voice") transceiver.direction = "inactive";
    else throw new Error(`No such scenario: ${scenario}.`);
  }
}
