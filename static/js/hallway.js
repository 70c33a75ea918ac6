// Keeps the hallway's room lists current: every little while, while the tab is visible, it
// fetches the lists alone (GET /hallway/rooms/) and swaps them in when they changed.

import { localizeTimes } from "./local-time.js";
import { onEveryPage } from "./pages.js";

const POLL_MS = 20000;

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

  function onVisibility() {
    if (!document.hidden) refresh();
    schedule();
  }

  // Another page took the hallway's place (Turbo): its lists are no longer shown.
  function stop() {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  }

  document.addEventListener("visibilitychange", onVisibility);
  document.addEventListener("turbo:before-render", stop, { once: true });
  schedule();
}
