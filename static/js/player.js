// The docked player: the room you are in keeps playing while you browse other pages. Turbo
// (navigation.js) swaps pages in one document, so the room's socket, connections and
// <audio> elements live on; its page element is parked in the player (a permanent element,
// carried from page to page) and put back when you return to the room. The player shows
// the room's title (a link back), REC while it records, who is speaking, mute when you are on
// stage, and leave.

import { liveRoom } from "./room/live.js";
import { onStage } from "./room/state.js";

const ROOM_PAGE = ".room[data-room]";

function parts() {
  const dock = document.querySelector("[data-player-dock]");
  const part = (name) => dock.querySelector(`[data-player-${name}]`);
  return { dock, part };
}

function parked(live) {
  return Boolean(live) && parts().part("keep").contains(live.root);
}

function speakers(live) {
  const names = live.state
    .stage()
    .filter((member) => !member.muted && live.speaking(member.user.id))
    .map((member) => member.user.display_name);
  if (names.length === 0) return "No one is speaking";
  if (names.length === 1) return `${names[0]} is speaking`;
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are speaking`;
}

function render() {
  const live = liveRoom.current;
  const { dock, part } = parts();
  const shown = parked(live);
  part("bar").hidden = !shown;
  document.documentElement.classList.toggle("has-player", shown);
  if (!shown) return;
  const title = live.state.room?.title ?? live.root.querySelector("h1")?.textContent ?? "";
  const link = part("link");
  link.href = `/rooms/${live.id}/`;
  link.setAttribute("aria-label", `${title}, back to the room`);
  part("title").textContent = title;
  part("rec").hidden = Boolean(live.over) || !live.state.recording;
  part("speaking").textContent = live.over ?? speakers(live);
  const me = live.state.me;
  const mute = part("mute");
  mute.hidden = Boolean(live.over) || !onStage(me);
  mute.setAttribute("aria-pressed", String(Boolean(me?.muted)));
  mute.textContent = me?.muted ? "Unmute" : "Mute";
  const leave = part("leave");
  leave.textContent = live.over ? "Close" : "Leave";
  leave.setAttribute("aria-label", live.over ? "Close the player" : "Leave the room quietly");
  dock.dataset.over = String(Boolean(live.over));
}

function forget() {
  const live = liveRoom.current;
  if (!live) return;
  if (!live.over) live.leave();
  live.root.remove();
  liveRoom.close();
}

// The player was used to leave, or to close it after the room ended: said, and the keyboard
// goes on from the page's content rather than from nowhere.
function closeFromPlayer() {
  const { part } = parts();
  const left = !liveRoom.current.over;
  forget();
  part("note").textContent = left ? "You left the room." : "";
  document.querySelector("#main")?.focus();
}

// Before the next page takes this one's place: the room's page goes into the player to
// live on, and another room's page asks for a document of its own (its module, having run
// in this one, would not run again): the room you are in is left first.
document.addEventListener("turbo:before-render", (event) => {
  const live = liveRoom.current;
  const next = event.detail.newBody.querySelector(ROOM_PAGE);
  const returning = live && !live.over && next?.dataset.room === live.id;
  if (next && liveRoom.opened && !returning) {
    event.preventDefault();
    forget();
    location.assign(`/rooms/${encodeURIComponent(next.dataset.room)}/`);
    return;
  }
  if (!live || returning || parked(live)) return;
  if (live.over) liveRoom.close();
  else parts().part("keep").append(live.root);
});

// Back in the room: its live page in place of the fresh copy.
document.addEventListener("turbo:render", () => {
  const live = liveRoom.current;
  const fresh = live && document.querySelector(`main ${ROOM_PAGE}`);
  if (fresh && fresh !== live.root) fresh.replaceWith(live.root);
  render();
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-player-dock] button");
  if (!button || !liveRoom.current) return;
  if (button.matches("[data-player-mute]")) liveRoom.current.mute();
  else if (button.matches("[data-player-leave]")) closeFromPlayer();
});

liveRoom.addEventListener("change", render);
