// The room socket's reconnect schedule (static/js/room/socket.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { CLOSE } from "../../static/js/protocol.js";
import { FINAL_CLOSES, nextRetry, RETRY_MAX_MS, RETRY_MIN_MS } from "../../static/js/room/socket.js";

const middle = () => 0.5;

test("a lost connection backs off, doubling up to the cap", () => {
  const waits = [];
  let delay = RETRY_MIN_MS;
  for (let attempt = 0; attempt < 6; attempt += 1) {
    const next = nextRetry(1006, delay, middle);
    waits.push(next.wait);
    delay = next.delay;
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 15000, 15000]);
  assert.equal(delay, RETRY_MAX_MS);
});

test("each wait is spread by a quarter either way", () => {
  assert.equal(nextRetry(1006, 4000, () => 0).wait, 3000);
  assert.equal(nextRetry(1006, 4000, () => 0.999999).wait.toFixed(0), "5000");
});

test("a restarting server is rejoined within half a second, the backoff untouched", () => {
  assert.deepEqual(nextRetry(CLOSE.restarting, 8000, () => 0.999999), { wait: 499.9995, delay: 8000 });
  assert.equal(nextRetry(CLOSE.restarting, 8000, () => 0).wait, 0);
});

test("the server's busy and flood closes are retried; refusals are final", () => {
  for (const code of [CLOSE.tryAgain, CLOSE.serverError, CLOSE.rateLimited, CLOSE.restarting]) {
    assert.equal(FINAL_CLOSES.has(code), false, `close ${code}`);
  }
  for (const code of [CLOSE.unauthenticated, CLOSE.forbidden, CLOSE.notFound, CLOSE.replaced]) {
    assert.equal(FINAL_CLOSES.has(code), true, `close ${code}`);
  }
});
