// @ts-check
// The microphone a person speaks with: which device, and whether the browser's echo
// cancellation, noise suppression and automatic gain are on (all on by default). Kept in
// this browser (localStorage), used whenever the page takes the microphone, and checked in
// the microphone dialog before going on stage: a level meter shows what the others would
// hear.

const KEY = "roundtable.microphone";
export const DEFAULTS = Object.freeze({
  deviceId: "",
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
});
const SWITCHES = ["echoCancellation", "noiseSuppression", "autoGainControl"];

// What was saved, with defaults for whatever is missing or not of its type.
export function loadSettings(storage = globalThis.localStorage) {
  let saved;
  try {
    saved = JSON.parse(storage?.getItem(KEY) ?? "{}") ?? {};
  } catch {
    saved = {};
  }
  const settings = { ...DEFAULTS };
  if (typeof saved.deviceId === "string") settings.deviceId = saved.deviceId;
  for (const name of SWITCHES) {
    if (typeof saved[name] === "boolean") settings[name] = saved[name];
  }
  return settings;
}

export function saveSettings(settings, storage = globalThis.localStorage) {
  try {
    storage?.setItem(KEY, JSON.stringify(settings));
  } catch {
    // Private browsing may refuse; the settings hold for this page all the same.
  }
}

// getUserMedia's constraints for these settings: mono, the chosen device when there is one
// (`ideal`, so a device unplugged since falls back to the default rather than failing).
export function constraints(settings) {
  const audio = { channelCount: 1 };
  for (const name of SWITCHES) audio[name] = settings[name];
  if (settings.deviceId) audio.deviceId = { ideal: settings.deviceId };
  return { audio, video: false };
}

// The dialog: a device picker, the three switches and a level meter on a preview of the
// microphone as the settings would take it. `onSave(settings)` when saved.
export class MicrophoneDialog {
  constructor(dialog, { onSave }) {
    this.dialog = dialog;
    this.onSave = onSave;
    this.form = dialog.querySelector("form");
    this.meter = dialog.querySelector("[data-mic-level]");
    this.devices = dialog.querySelector("[data-mic-device]");
    this.problem = dialog.querySelector("[data-mic-error]");
    this.preview = null;
    this.context = null;
    this.timer = null;
    this.form.addEventListener("change", () => this.listen());
    this.saved = null;
    this.form.addEventListener("submit", (event) => {
      if (event.submitter?.value !== "save") return;
      this.saved = this.read();
      saveSettings(this.saved);
    });
    // Told once the preview is stopped: a browser opens a device with one set of cleanups
    // at a time, so the microphone taken again must not find the preview's still open.
    dialog.addEventListener("close", () => {
      this.stop();
      if (this.saved) this.onSave(this.saved);
      this.saved = null;
    });
  }

  async open() {
    const settings = loadSettings();
    for (const name of SWITCHES) this.form.elements[name].checked = settings[name];
    this.dialog.showModal();
    await this.listen(settings.deviceId);
  }

  read() {
    const settings = { deviceId: this.devices.value };
    for (const name of SWITCHES) settings[name] = this.form.elements[name].checked;
    return settings;
  }

  // A preview as the settings now say, its level on the meter.
  async listen(deviceId = this.devices.value) {
    this.stop();
    this.problem.hidden = true;
    const settings = { ...this.read(), deviceId };
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints(settings));
    } catch (error) {
      this.problem.textContent = `The microphone is not available: ${error.message}`;
      this.problem.hidden = false;
      return;
    }
    if (!this.dialog.open) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    this.preview = stream;
    await this.listDevices(stream.getAudioTracks()[0]?.getSettings().deviceId ?? deviceId);
    this.context = new AudioContext();
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    this.context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      this.meter.value = peak;
    }, 100);
  }

  // The microphones the browser names (it names them once one was allowed).
  async listDevices(current) {
    const inputs = (await navigator.mediaDevices.enumerateDevices()).filter(
      (device) => device.kind === "audioinput",
    );
    this.devices.replaceChildren(
      ...inputs.map((device, index) => {
        const option = new Option(device.label || `Microphone ${index + 1}`, device.deviceId);
        option.selected = device.deviceId === current;
        return option;
      }),
    );
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.context?.close();
    this.context = null;
    for (const track of this.preview?.getTracks() ?? []) track.stop();
    this.preview = null;
    this.meter.value = 0;
  }
}
