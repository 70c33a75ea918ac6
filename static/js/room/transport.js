// @ts-check
// The media transport: how the room page's audio reaches the others and theirs reaches us.
// Two implementations answer the same calls, and main.js and view.js know only these:
// the mesh (mesh.js, browser to browser) and the media server (sfu.js, through the server).
//
//   new Transport({ myId, send, playback, rtcConfig })
//     send(frame): to the room socket; playback: where voices play (playback.js);
//     rtcConfig: the RTCPeerConnection configuration (ICE servers).
//   mode                         "mesh" or "sfu", as the room's `media.mode` names it
//   join()                       starts taking part, as publish/unpublish last said
//   rejoin()                     the room socket came back after a loss
//   sync(members)                the roster changed (member objects, as the server sends them)
//   publish() / unpublish()      on / off stage: our voice goes out (the microphone is asked
//                                for; the promise rejects when it is refused) / stops, and the
//                                microphone is released
//   setMuted(muted)              our voice silenced (the track disabled) or not
//   receive(frame)               a media frame from the room socket; others are ignored
//   reconfigure()                rtcConfig changed (fresh TURN credentials): the open
//                                connections take it for their next ICE gathering
//   speaking(userId), reconnecting(userId)   the marks on the stage's tiles
//   condition()                  { reconnecting, relayed }: what the page says of its audio
//                                (a voice it should hear is lost; it goes through TURN)
//   leave()                      every connection closed, every track stopped
//   inspect()                    plain data for tests and benchmarks (see main.js's debug hook)
//   simulate(scenario, userId)   a fault, for tests (like LiveKit's simulateScenario)
// Events: "marks" when speaking or reconnecting marks change; "ready" (the media server's)
// when its connection carries audio (for listening: audio arrives), which is when a room
// moving off the mesh closes the mesh.
//
// Below: what both transports share.

import { constraints, loadSettings } from "./microphone.js";

const OPUS = {
  stereo: "0",
  "sprop-stereo": "0",
  usedtx: "1",
  useinbandfec: "1",
  maxaveragebitrate: "32000",
};
const MAX_BITRATE = 32000;
export const SPEAKING_LEVEL = 0.02;

export function newSessionId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(9)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

// Opus tuned for voice: mono, discontinuous transmission, in-band FEC, ~32 kbit/s. The
// format parameters of a description say what its sender wants to receive, and an encoder
// follows those of the remote description: so they are set on the other side's description
// as it is applied.
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

export async function capBitrate(sender) {
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

// Fresh ICE servers for an open connection: they serve its next ICE restart. A connection
// closed meanwhile refuses them, which is fine.
export function reconfigure(pc, rtcConfig) {
  try {
    pc.setConfiguration({ ...pc.getConfiguration(), ...rtcConfig });
  } catch (error) {
    console.warn("ICE servers not renewed:", error);
  }
}

// The way the connection's packets take, from its selected candidate pair: our end's and
// the other end's kind of address ("host", "srflx", "prflx" or "relay") and, when ours is
// a TURN relay, how we reach it ("udp", "tcp" or "tls"); null before a pair is selected.
export function route(stats) {
  /** @type {any} */
  let pair = null;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId) {
      pair = stats.get(report.selectedCandidatePairId) ?? null;
    }
  });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return {
    local: local?.candidateType ?? null,
    remote: remote?.candidateType ?? null,
    relayProtocol: local?.relayProtocol ?? null,
  };
}

// What a connection carries, as plain numbers: audio bytes and packets in and out, the
// loudest inbound level, samples made up for lost packets, our microphone's level, the codecs it sends with, its route and
// the kinds of address it found for our end ("host", "srflx", "relay").
export async function audioStats(pc) {
  const figures = {
    state: pc.connectionState,
    received: 0,
    level: 0,
    samples: 0, // audio samples received, of which `concealed` were made up for lost packets
    concealed: 0,
    lost: 0, // packets lost, of which `fec` were recovered from the next one's in-band FEC
    fec: 0,
    sent: 0,
    sentHeaders: 0,
    sentPackets: 0,
    sending: [],
    micLevel: 0,
    route: null,
    gathered: [],
  };
  if (pc.signalingState === "closed") return figures;
  const stats = await pc.getStats();
  figures.route = route(stats);
  const gathered = new Set();
  stats.forEach((report) => {
    if (report.type === "local-candidate") gathered.add(report.candidateType);
  });
  figures.gathered = [...gathered].sort();
  stats.forEach((report) => {
    if (report.kind !== "audio") return;
    if (report.type === "inbound-rtp") {
      figures.received += report.bytesReceived ?? 0;
      figures.level = Math.max(figures.level, report.audioLevel ?? 0);
      figures.samples += report.totalSamplesReceived ?? 0;
      figures.concealed += (report.concealedSamples ?? 0) - (report.silentConcealedSamples ?? 0);
      figures.lost += report.packetsLost ?? 0;
      figures.fec += report.fecPacketsReceived ?? 0;
    } else if (report.type === "outbound-rtp") {
      figures.sent += report.bytesSent ?? 0;
      figures.sentHeaders += report.headerBytesSent ?? 0;
      figures.sentPackets += report.packetsSent ?? 0;
      const codec = stats.get(report.codecId);
      if (codec) figures.sending.push(`${codec.mimeType} ${codec.sdpFmtpLine}`);
    } else if (report.type === "media-source") {
      figures.micLevel = Math.max(figures.micLevel, report.audioLevel ?? 0);
    }
  });
  return figures;
}

// The microphone, asked for once while it is wanted and released when it no longer is.
export class Microphone {
  constructor() {
    this.stream = null;
    this.pending = null;
    this.asked = 0; // one more at every request and release: answers to older ones are dropped
    this.muted = true;
  }

  // Resolves with the stream, or null when it was released before the browser answered;
  // rejects when the browser refuses it.
  take() {
    if (!this.pending) {
      this.asked += 1;
      this.pending = this.ask(this.asked);
    }
    return this.pending;
  }

  async ask(request) {
    const stream = await navigator.mediaDevices.getUserMedia(constraints(loadSettings()));
    if (request !== this.asked) {
      for (const track of stream.getTracks()) track.stop();
      return null;
    }
    this.stream = stream;
    this.apply();
    return stream;
  }

  get track() {
    return this.stream?.getAudioTracks()[0] ?? null;
  }

  release() {
    this.asked += 1;
    this.pending = null;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }

  setMuted(muted) {
    this.muted = muted;
    this.apply();
  }

  apply() {
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !this.muted;
  }

  inspect() {
    const tracks = this.stream?.getTracks() ?? [];
    return tracks.map((track) => {
      const { echoCancellation, noiseSuppression, autoGainControl } = track.getSettings();
      return {
        state: track.readyState,
        enabled: track.enabled,
        processing: { echoCancellation, noiseSuppression, autoGainControl },
      };
    });
  }
}
