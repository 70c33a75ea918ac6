// Keeps the hallway's room lists current: it fetches the lists alone (GET /hallway/rooms/,
// under the page's filters) and swaps them in when they changed — at once when the
// notification socket says an open room started or ended, or a room someone follows started
// (its notification), and every little while anyway while the tab is visible.

import { localizeTimes } from "./local-time.js";
import { onEveryPage } from "./pages.js";

const POLL_MS = 20000;
// Pages told together fetch spread over this long, not all in the same instant.
const SPREAD_MS = 1000;

onEveryPage(() => {
  const lists = document.querySelector("[data-hallway-rooms]");
  if (lists) followRooms(lists);
});

// Each rendering carries a fresh CSRF token; it is not a change worth a swap.
function comparable(html) {
  return html.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "").trim();
}

function followRooms(lists) {
  let timer = null;

  async function refresh() {
    try {
      const response = await fetch(lists.dataset.hallwayRooms, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (!response.ok || response.redirected) return;
      // Parsed and localised the way the shown lists were, so both serialise alike.
      const fresh = document.createElement("div");
      fresh.innerHTML = await response.text();
      localizeTimes(fresh);
      if (comparable(fresh.innerHTML) === comparable(lists.innerHTML)) return;
      // A control someone is using stays put until the next round.
      if (lists.contains(document.activeElement)) return;
      lists.replaceChildren(...fresh.childNodes);
    } catch {
      // Offline for a moment: the next round tries again.
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = document.hidden ? null : setInterval(refresh, POLL_MS);
  }

  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => {
      soon = null;
      refresh();
    }, Math.random() * SPREAD_MS);
  }
  function onNotification(event) {
    if (event.detail.kind === "room_started") refreshSoon();
  }
  document.addEventListener("roundtable:hallway-changed", refreshSoon);
  document.addEventListener("roundtable:notification", onNotification);

  function onVisibility() {
    if (!document.hidden) refresh();
    schedule();
  }

  // Another page took the hallway's place (Turbo): its lists are no longer shown.
  function stop() {
    clearInterval(timer);
    clearTimeout(soon);
    document.removeEventListener("visibilitychange", onVisibility);
    document.removeEventListener("roundtable:hallway-changed", refreshSoon);
    document.removeEventListener("roundtable:notification", onNotification);
  }

  document.addEventListener("visibilitychange", onVisibility);
  document.addEventListener("turbo:before-render", stop, { once: true });
  schedule();
}
