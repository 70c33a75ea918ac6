// The audio mesh: one RTCPeerConnection per peer, as the server allows them: people on
// stage connect to everyone, listeners only to people on stage.
//
// Each connection follows the "perfect negotiation" pattern, so either side may
// renegotiate at any time without glare: the side with the higher user id is polite and
// rolls back its own offer when both offer at once. Every signal names the connection that
// sent it (`session`), so a peer that started over (a reload, a lost connection) is told
// apart from the connection we are talking to, and we start over with it.

const OPUS = {
  stereo: "0",
  "sprop-stereo": "0",
  usedtx: "1",
  useinbandfec: "1",
  maxaveragebitrate: "32000",
};
const MAX_BITRATE = 32000;
const MIC_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  video: false,
};
// A listener whose connection got no offer this long asks for one itself.
const NUDGE_MS = 3000;
// An unmuted speaker who sends nothing this long gets their connection restarted.
export const STALL_MS = 5000;
const STATS_MS = 1000;
// A peer we connected to because their signal came before the news that they went on stage
// is kept this long even when the roster says no edge.
const ADOPTION_MS = 5000;
const SPEAKING_LEVEL = 0.02;

function newSessionId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(9)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

// Opus tuned for voice: mono, discontinuous transmission, in-band FEC, ~32 kbit/s. The
// format parameters of a description say what its sender wants to receive, and an encoder
// follows those of the remote description: so they are set on the peer's description as it
// is applied, and our own descriptions are made and set in one step, as perfect negotiation
// needs.
export function tuneOpus(sdp) {
  const match = sdp.match(/a=rtpmap:(\d+) opus\/48000/i);
  if (!match) return sdp;
  const payload = match[1];
  const fmtp = new RegExp(`a=fmtp:${payload} ([^\\r\\n]*)`);
  const params = new Map();
  const existing = sdp.match(fmtp);
  if (existing) {
    for (const pair of existing[1].split(";")) {
      const [key, value] = pair.split("=");
      if (key.trim()) params.set(key.trim(), (value ?? "").trim());
    }
  }
  for (const [key, value] of Object.entries(OPUS)) params.set(key, value);
  const line = `a=fmtp:${payload} ${[...params].map(([k, v]) => `${k}=${v}`).join(";")}`;
  if (existing) return sdp.replace(fmtp, line);
  return sdp.replace(new RegExp(`(a=rtpmap:${payload} [^\\r\\n]*\\r?\\n)`), `$1${line}\r\n`);
}

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

    const pc = new RTCPeerConnection(mesh.rtcConfig);
    this.pc = pc;
    pc.addEventListener("negotiationneeded", () => this.offer());
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate) this.send({ candidate: candidate.toJSON() });
    });
    pc.addEventListener("track", ({ track, streams }) => {
      mesh.playback.attach(userId, streams[0] ?? new MediaStream([track]));
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed") pc.restartIce();
    });
    this.nudge = setTimeout(() => this.askForOffer(), NUDGE_MS);
  }

  send(fields) {
    this.mesh.send({ type: "signal", to: this.userId, session: this.session, ...fields });
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

async function capBitrate(sender) {
  if (!sender) return;
  const parameters = sender.getParameters();
  if (!parameters.encodings?.length) return;
  for (const encoding of parameters.encodings) encoding.maxBitrate = MAX_BITRATE;
  try {
    await sender.setParameters(parameters);
  } catch {
    // Not yet negotiated; the Opus parameters in the description cap it anyway.
  }
}

export class Mesh {
  // send(frame): to the room socket. playback: where remote voices play.
  // expectsVoice(userId): whether that person's voice should be arriving now.
  // onPeers(): called when peers' speaking or reconnecting marks change.
  constructor({ myId, send, playback, expectsVoice, onPeers }) {
    this.myId = myId;
    this.send = send;
    this.playback = playback;
    this.onPeers = onPeers;
    this.peers = new Map();
    this.rtcConfig = {};
    this.mic = null; // the MediaStream of our microphone, only while on stage
    this.micWanted = false;
    this.muted = true;
    this.myLevel = 0;
    this.expectsVoice = expectsVoice;
    this.allowed = new Set();
    this.statsTimer = setInterval(() => this.watch(), STATS_MS);
  }

  configure({ ice_servers: iceServers, ice_transport_policy: policy }) {
    this.rtcConfig = { iceServers, iceTransportPolicy: policy };
  }

  // The peers there should be connections with (user ids), given the roster.
  sync(userIds) {
    this.allowed = new Set(userIds);
    const now = performance.now();
    for (const [userId, peer] of this.peers) {
      if (!this.allowed.has(userId) && now - peer.openedAt > ADOPTION_MS) this.drop(userId);
    }
    for (const userId of this.allowed) {
      if (!this.peers.has(userId)) this.open(userId);
    }
  }

  open(userId) {
    const peer = new Peer(this, userId);
    this.peers.set(userId, peer);
    if (this.mic) this.giveVoice(peer, this.mic);
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

  async receive({ from, session, description, candidate }) {
    let peer = this.peers.get(from) ?? this.open(from);
    if (session && peer.remoteSession && peer.remoteSession !== session) {
      // They started over; so do we.
      peer = this.reopen(from);
      if (description?.type === "answer") {
        // An answer to an offer of the connection we just closed: offer anew.
        peer.remoteSession = session;
        if (!this.mic) peer.askForOffer();
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

  // On stage: ask for the microphone (once) and send it to every peer. Off stage: stop
  // every track and release the microphone.
  async setOnStage(on) {
    if (on === this.micWanted) return;
    this.micWanted = on;
    if (on) {
      const stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
      if (!this.micWanted) {
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.mic = stream;
      this.applyMute();
      for (const peer of this.peers.values()) await this.giveVoice(peer, stream);
    } else {
      const mic = this.mic;
      this.mic = null;
      for (const peer of this.peers.values()) await this.giveVoice(peer, null);
      for (const track of mic?.getTracks() ?? []) track.stop();
    }
  }

  setMuted(muted) {
    this.muted = muted;
    this.applyMute();
  }

  applyMute() {
    for (const track of this.mic?.getAudioTracks() ?? []) track.enabled = !this.muted;
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
      peer.pc.restartIce();
    } else {
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
      let bytes = 0;
      let level = 0;
      const stats = await peer.pc.getStats();
      stats.forEach((report) => {
        if (report.type === "inbound-rtp" && report.kind === "audio") {
          bytes += report.bytesReceived ?? 0;
          level = Math.max(level, report.audioLevel ?? 0);
        } else if (report.type === "media-source" && report.kind === "audio") {
          myLevel = Math.max(myLevel, report.audioLevel ?? 0);
        }
      });
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
    this.myLevel = this.mic && !this.muted ? myLevel : 0;
    if (changed || wasSpeaking !== this.myLevel > SPEAKING_LEVEL) this.onPeers();
  }

  speaking(userId) {
    if (userId === this.myId) return this.myLevel > SPEAKING_LEVEL;
    return (this.peers.get(userId)?.level ?? 0) > SPEAKING_LEVEL;
  }

  reconnecting(userId) {
    return this.peers.get(userId)?.reconnecting ?? false;
  }

  // Leaving, ending or being removed: every connection closed, every track stopped.
  close() {
    clearInterval(this.statsTimer);
    this.micWanted = false;
    for (const userId of [...this.peers.keys()]) this.drop(userId);
    for (const track of this.mic?.getTracks() ?? []) track.stop();
    this.mic = null;
    this.playback.clear();
  }
}
