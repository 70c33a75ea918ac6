// The microphone's settings and constraints (static/js/room/microphone.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { constraints, DEFAULTS, loadSettings, saveSettings } from "../../static/js/room/microphone.js";

function memory(initial = {}) {
  const items = new Map(Object.entries(initial));
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => items.set(key, String(value)),
  };
}

test("by default every cleanup is on and the browser picks the device", () => {
  assert.deepEqual(loadSettings(memory()), DEFAULTS);
  assert.deepEqual(constraints(DEFAULTS), {
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: false,
  });
});

test("saved settings come back, and a chosen device is asked for, not demanded", () => {
  const storage = memory();
  const chosen = { deviceId: "usb-1", echoCancellation: false, noiseSuppression: true, autoGainControl: false };
  saveSettings(chosen, storage);
  assert.deepEqual(loadSettings(storage), chosen);
  const { audio } = constraints(chosen);
  assert.deepEqual(audio.deviceId, { ideal: "usb-1" });
  assert.equal(audio.echoCancellation, false);
  assert.equal(audio.autoGainControl, false);
});

test("whatever is stored wrongly falls back to the defaults, field by field", () => {
  const broken = memory({ "roundtable.microphone": "{not json" });
  assert.deepEqual(loadSettings(broken), DEFAULTS);
  const odd = memory({
    "roundtable.microphone": JSON.stringify({ deviceId: 7, echoCancellation: "no", noiseSuppression: false }),
  });
  assert.deepEqual(loadSettings(odd), { ...DEFAULTS, noiseSuppression: false });
  assert.deepEqual(loadSettings(memory({ "roundtable.microphone": "null" })), DEFAULTS);
});

test("a browser without storage still works", () => {
  assert.deepEqual(loadSettings(undefined), DEFAULTS);
  saveSettings(DEFAULTS, undefined);
  const refusing = { getItem: () => null, setItem: () => { throw new Error("quota"); } };
  saveSettings(DEFAULTS, refusing);
});
