// The replay's waveform: its peaks (0..1, evenly over the replay) as bars on a canvas, the
// part already played in the accent colour. Clicking or dragging on it picks a moment; the
// element around the canvas is the slider the keyboard and screen readers use (replay.js).
// Colours come from the element's CSS (--wave-played, --wave-rest): nothing inline.

const BAR_STEP = 5; // CSS pixels from one bar to the next
const BAR_SHARE = 0.6; // of the step; the rest is the gap

// `peaks` resampled to `count` bars: the loudest peak of each stretch, or the nearest peak
// when there are fewer peaks than bars.
export function bars(peaks, count) {
  if (peaks.length === 0) return new Array(count).fill(0);
  const values = [];
  for (let index = 0; index < count; index += 1) {
    const from = Math.floor((index * peaks.length) / count);
    const to = Math.max(from + 1, Math.floor(((index + 1) * peaks.length) / count));
    values.push(Math.max(...peaks.slice(from, to)));
  }
  return values;
}

export class Waveform {
  // `onScrub(fraction)` while a pointer drags, `onSeek(fraction)` when it lets go.
  constructor(element, { peaks, onScrub, onSeek }) {
    this.element = element;
    this.canvas = element.querySelector("canvas");
    this.peaks = peaks;
    this.onScrub = onScrub;
    this.onSeek = onSeek;
    this.fraction = 0;
    this.dragging = null; // the pointer's id while it drags
    this.cache = { count: -1, values: [] };
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(this.canvas);
    this.listen();
  }

  listen() {
    const element = this.element;
    element.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || this.dragging !== null) return;
      event.preventDefault();
      element.focus();
      element.setPointerCapture(event.pointerId);
      this.dragging = event.pointerId;
      this.scrub(event);
    });
    element.addEventListener("pointermove", (event) => {
      if (event.pointerId === this.dragging) this.scrub(event);
    });
    element.addEventListener("pointerup", (event) => {
      if (event.pointerId !== this.dragging) return;
      this.dragging = null;
      this.onSeek(this.at(event));
    });
    // The browser took the gesture over (a scroll): the moment stays where it was.
    element.addEventListener("pointercancel", (event) => {
      if (event.pointerId !== this.dragging) return;
      this.dragging = null;
      this.onSeek(null);
    });
  }

  at(event) {
    const box = this.canvas.getBoundingClientRect();
    return box.width > 0 ? Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) : 0;
  }

  scrub(event) {
    this.show(this.at(event));
    this.onScrub(this.fraction);
  }

  get scrubbing() {
    return this.dragging !== null;
  }

  show(fraction) {
    if (!Number.isFinite(fraction)) return;
    this.fraction = Math.min(1, Math.max(0, fraction));
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const { width, height } = canvas.getBoundingClientRect();
    if (width === 0 || height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    const pixels = [Math.round(width * ratio), Math.round(height * ratio)];
    if (canvas.width !== pixels[0] || canvas.height !== pixels[1]) {
      [canvas.width, canvas.height] = pixels;
    }
    const count = Math.max(1, Math.floor(width / BAR_STEP));
    if (this.cache.count !== count) this.cache = { count, values: bars(this.peaks, count) };
    const style = getComputedStyle(this.element);
    const played = style.getPropertyValue("--wave-played").trim() || "#1f5e45";
    const rest = style.getPropertyValue("--wave-rest").trim() || "#c9c2b1";
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const step = width / count;
    const barWidth = Math.max(1, step * BAR_SHARE);
    const path = new Path2D();
    this.cache.values.forEach((value, index) => {
      const barHeight = Math.max(3, value * (height - 4));
      const x = index * step + (step - barWidth) / 2;
      const y = (height - barHeight) / 2;
      if (path.roundRect) path.roundRect(x, y, barWidth, barHeight, barWidth / 2);
      else path.rect(x, y, barWidth, barHeight);
    });
    context.fillStyle = rest;
    context.fill(path);
    const edge = width * this.fraction;
    if (edge > 0) {
      context.save();
      context.beginPath();
      context.rect(0, 0, edge, height);
      context.clip();
      context.fillStyle = played;
      context.fill(path);
      context.restore();
    }
    // The playhead.
    context.fillStyle = played;
    context.fillRect(Math.min(width - 2, Math.max(0, edge - 1)), 0, 2, height);
  }

  destroy() {
    this.observer.disconnect();
  }
}
