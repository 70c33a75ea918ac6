// Shows every <time data-local> in the reader's own time zone; the server writes UTC, which
// stays as it is when script is off. Plain ES module, no build step.

import { onEveryPage } from "./pages.js";

const STYLES = {
  short: { weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" },
  full: {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  },
};

function localize(element) {
  const moment = new Date(element.dateTime);
  if (Number.isNaN(moment.getTime())) return;
  const style = STYLES[element.dataset.local] || STYLES.short;
  element.textContent = new Intl.DateTimeFormat(undefined, style).format(moment);
  element.title = moment.toUTCString();
}

export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-local]")) localize(element);
}

// A <time> for a moment the server sent (ISO 8601), shown as the page's own times are.
export function localTime(iso, style = "short") {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.dataset.local = style;
  element.textContent = iso;
  localize(element);
  return element;
}

onEveryPage(() => localizeTimes());
