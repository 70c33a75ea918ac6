// The replay player's arithmetic for its transcript (static/js/replay/time.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { lineAt } from "../../static/js/replay/time.js";

const lines = [
  { start: 1, end: 4 },
  { start: 4.5, end: 7 },
  { start: 12, end: 15 },
];

test("the line being said is the last that started, while it lasts", () => {
  assert.equal(lineAt(lines, 0.5), -1);
  assert.equal(lineAt(lines, 1), 0);
  assert.equal(lineAt(lines, 4.2), 0);
  assert.equal(lineAt(lines, 4.5), 1);
  assert.equal(lineAt(lines, 7.9), 1);
  assert.equal(lineAt(lines, 9), -1); // a pause between lines shows none
  assert.equal(lineAt(lines, 14), 2);
  assert.equal(lineAt(lines, 30), -1);
  assert.equal(lineAt([], 3), -1);
});
