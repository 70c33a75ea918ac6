// The ICE servers and the renewal of TURN's credentials (static/js/room/ice.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { IceServers, RETRY_MAX_MS, RETRY_MIN_MS } from "../../static/js/room/ice.js";

// Timers run by hand: `pending` holds what is scheduled, `fire()` runs it.
function manualTimers() {
  const timers = {
    pending: null,
    delays: [],
    setTimeout(callback, delay) {
      timers.pending = callback;
      timers.delays.push(delay);
      return timers.delays.length;
    },
    clearTimeout(handle) {
      if (handle === timers.delays.length) timers.pending = null;
    },
    async fire() {
      const callback = timers.pending;
      timers.pending = null;
      await callback();
    },
  };
  return timers;
}

function answer(username, renewIn) {
  return {
    ice_servers: [{ urls: ["turn:turn.example.org:3478"], username, credential: "c" }],
    ice_transport_policy: "relay",
    expires_at: renewIn == null ? null : 2_000_000_000,
    renew_in: renewIn,
  };
}

test("credentials are fetched again when the server says, and the open connections told", async () => {
  const answers = [answer("1:7", 480), answer("2:7", 480)];
  const timers = manualTimers();
  const renewed = [];
  const ice = new IceServers(async () => answers.shift(), {
    onRenew: (config) => renewed.push(config.iceServers[0].username),
    timers,
  });
  const config = ice.config;
  await ice.load();
  assert.equal(config.iceServers[0].username, "1:7");
  assert.equal(config.iceTransportPolicy, "relay");
  assert.deepEqual(renewed, [], "the first answer is no renewal");
  assert.deepEqual(timers.delays, [480_000]);

  await timers.fire();
  assert.equal(ice.config, config, "one object, changed in place, for connections made later");
  assert.equal(config.iceServers[0].username, "2:7");
  assert.deepEqual(renewed, ["2:7"]);
  assert.deepEqual(timers.delays, [480_000, 480_000]);
});

test("nothing that expires is not fetched again", async () => {
  const timers = manualTimers();
  const ice = new IceServers(async () => answer("", null), { timers });
  await ice.load();
  assert.deepEqual(timers.delays, []);
  assert.equal(timers.pending, null);
});

test("a failed fetch is tried again, less often each time, keeping what the page had", async () => {
  let calls = 0;
  const timers = manualTimers();
  const ice = new IceServers(
    async () => {
      calls += 1;
      if (calls === 1) return answer("1:7", 480);
      throw new Error("offline");
    },
    { timers },
  );
  await ice.load();
  for (let i = 0; i < 6; i += 1) await timers.fire();
  assert.equal(ice.config.iceServers[0].username, "1:7");
  assert.deepEqual(timers.delays, [
    480_000,
    RETRY_MIN_MS,
    RETRY_MIN_MS * 2,
    RETRY_MIN_MS * 4,
    RETRY_MIN_MS * 8,
    RETRY_MAX_MS,
    RETRY_MAX_MS,
  ]);
});

test("a first fetch that fails leaves an empty configuration and tries again", async () => {
  let calls = 0;
  const timers = manualTimers();
  const renewed = [];
  const ice = new IceServers(
    async () => {
      calls += 1;
      if (calls === 1) throw new Error("offline");
      return answer("1:7", 480);
    },
    { onRenew: () => renewed.push(true), timers },
  );
  await ice.load();
  assert.deepEqual(ice.config, {});
  await timers.fire();
  assert.equal(ice.config.iceServers[0].username, "1:7");
  assert.deepEqual(renewed, [true], "connections opened meanwhile get the servers");
  assert.deepEqual(timers.delays, [RETRY_MIN_MS, 480_000]);
});

test("stop ends the renewals", async () => {
  const timers = manualTimers();
  const ice = new IceServers(async () => answer("1:7", 480), { timers });
  await ice.load();
  ice.stop();
  assert.equal(timers.pending, null);
});
