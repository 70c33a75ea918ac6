// Opus tuned for voice in the session descriptions (static/js/room/transport.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { route, tuneOpus } from "../../static/js/room/transport.js";

const AUDIO = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0",
  "a=rtpmap:111 opus/48000/2",
  "a=rtcp-fb:111 transport-cc",
  "a=fmtp:111 minptime=10;useinbandfec=1;stereo=1",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

function fmtp(sdp, payload) {
  const line = sdp.split("\r\n").find((l) => l.startsWith(`a=fmtp:${payload} `));
  return line && Object.fromEntries(line.split(" ")[1].split(";").map((p) => p.split("=")));
}

test("the opus line keeps its parameters and gains the voice settings", () => {
  const tuned = tuneOpus(AUDIO);
  assert.deepEqual(fmtp(tuned, 111), {
    minptime: "10",
    useinbandfec: "1",
    stereo: "0",
    "sprop-stereo": "0",
    usedtx: "1",
    maxaveragebitrate: "32000",
  });
  assert.ok(tuned.includes("\r\na=fmtp:63 111/111\r\n"), "the redundancy line untouched");
  assert.equal(tuned.split("\r\n").length, AUDIO.split("\r\n").length);
});

test("a description without an opus fmtp line gets one after its rtpmap", () => {
  const bare = AUDIO.replace("a=fmtp:111 minptime=10;useinbandfec=1;stereo=1\r\n", "");
  const lines = tuneOpus(bare).split("\r\n");
  const at = lines.indexOf("a=rtpmap:111 opus/48000/2");
  assert.match(lines[at + 1], /^a=fmtp:111 /);
  assert.equal(fmtp(lines.join("\r\n"), 111).usedtx, "1");
});

test("the payload type is read from the description, not assumed", () => {
  const other = AUDIO.replaceAll(":111 ", ":109 ").replace("SAVPF 111", "SAVPF 109");
  assert.equal(fmtp(tuneOpus(other), 109).maxaveragebitrate, "32000");
});

test("a description without opus is left as it is", () => {
  const pcmu = "v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  assert.equal(tuneOpus(pcmu), pcmu);
});

test("tuning twice changes nothing more", () => {
  assert.equal(tuneOpus(tuneOpus(AUDIO)), tuneOpus(AUDIO));
});

// A statistics report as getStats() resolves it: a Map of reports by id.
function report(...entries) {
  return new Map(entries.map((entry) => [entry.id, entry]));
}

test("the route is the selected pair's: relayed over TCP on our side", () => {
  const stats = report(
    { id: "T", type: "transport", selectedCandidatePairId: "P2" },
    { id: "P1", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1" },
    { id: "P2", type: "candidate-pair", localCandidateId: "L2", remoteCandidateId: "R1" },
    { id: "L1", type: "local-candidate", candidateType: "srflx" },
    { id: "L2", type: "local-candidate", candidateType: "relay", relayProtocol: "tcp" },
    { id: "R1", type: "remote-candidate", candidateType: "srflx" },
  );
  assert.deepEqual(route(stats), { local: "relay", remote: "srflx", relayProtocol: "tcp" });
});

test("no route before a pair is selected", () => {
  assert.equal(route(report({ id: "T", type: "transport" })), null);
  assert.equal(route(report()), null);
  const direct = report(
    { id: "T", type: "transport", selectedCandidatePairId: "P" },
    { id: "P", type: "candidate-pair", localCandidateId: "L", remoteCandidateId: "R" },
    { id: "L", type: "local-candidate", candidateType: "host" },
    { id: "R", type: "remote-candidate", candidateType: "host" },
  );
  assert.deepEqual(route(direct), { local: "host", remote: "host", relayProtocol: null });
});
