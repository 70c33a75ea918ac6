// The replay player's arithmetic, apart from the page: positions as players write them,
// `?t=` links, chapters and speeds. Pure functions.

// 65 → "1:05", 3723 → "1:02:03".
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

// "1:05 of 12:00", for a screen reader's slider.
export function spoken(seconds, duration) {
  return `${clock(seconds)} of ${clock(duration)}`;
}

// The moment `?t=` asks for, in seconds (a number of seconds: "90", "12.5"), or null.
export function momentFrom(search) {
  const value = new URLSearchParams(search).get("t");
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

// The page's address that opens at `seconds` (whole seconds), other parameters kept.
export function momentLink(href, seconds) {
  const url = new URL(href);
  url.hash = "";
  const whole = Math.max(0, Math.floor(seconds));
  if (whole > 0) url.searchParams.set("t", String(whole));
  else url.searchParams.delete("t");
  return url.toString();
}

// Chapters are [{start, end}] in order of their start. The one playing at `time`: the last
// that started at or before it (a pause between two turns belongs to the turn before), or -1.
export function chapterAt(chapters, time) {
  let found = -1;
  chapters.forEach((chapter, index) => {
    if (chapter.start <= time + 0.05) found = index;
  });
  return found;
}

// Transcript lines are [{start, end}] in order of their start. The one being said at `time`:
// the last that started at or before it, while it lasts (and a second after, so that a
// caption does not blink between two lines), or -1.
export function lineAt(lines, time) {
  const index = chapterAt(lines, time);
  return index !== -1 && time <= lines[index].end + 1 ? index : -1;
}

// The first chapter that starts after `time` (a moment past, so that pressing again at a
// chapter's very start moves on), or -1.
export function nextChapter(chapters, time) {
  return chapters.findIndex((chapter) => chapter.start > time + 0.25);
}

// One step up (step 1) or down (-1) the speeds from `current`, held at either end.
export function stepSpeed(speeds, current, step) {
  const index = speeds.findIndex((speed) => Math.abs(speed - current) < 0.01);
  if (index === -1) return speeds[0];
  return speeds[Math.min(speeds.length - 1, Math.max(0, index + step))];
}

// Within 0..duration (a duration not known yet holds nothing back but the start).
export function clamp(time, duration) {
  const top = Number.isFinite(duration) && duration > 0 ? duration : Infinity;
  return Math.min(top, Math.max(0, time));
}
