// What the push settings say when the browser or the server refuses (static/js/push-errors.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { pushFailure, ServerRefusal } from "../../static/js/push-errors.js";

test("the server's refusal is said as the server wrote it", () => {
  assert.equal(pushFailure(new ServerRefusal("That subscription is not yours.")), "That subscription is not yours.");
});

test("the browser's raw errors become sentences a person can act on", () => {
  const raw = new DOMException("Registration failed - push service error", "AbortError");
  assert.match(pushFailure(raw), /push service could not be reached/);
  assert.doesNotMatch(pushFailure(raw), /Registration failed/);
  assert.match(pushFailure(new DOMException("denied", "NotAllowedError")), /not allowed/);
  assert.match(pushFailure(new TypeError("Failed to fetch")), /site could not be reached/);
  assert.match(pushFailure(new Error("anything else")), /push service could not be reached/);
});
