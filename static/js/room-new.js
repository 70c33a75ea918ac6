// The "Start a room" form: sends the browser's time zone with the local date and time, and
// shows the date field only when the room is scheduled.

import { onEveryPage } from "./pages.js";

onEveryPage(() => {
  const form = document.querySelector("[data-room-form]");
  if (form) setUp(form);
});

function setUp(form) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  form.querySelector("[data-time-zone]").value = zone;
  form.querySelector("[data-time-zone-label]").textContent = zone;

  const schedule = form.querySelector("[data-schedule]");
  const when = form.querySelector("[data-schedule] input");
  const later = () => form.elements.start.value === "later";
  const update = () => {
    schedule.hidden = !later();
  };
  // The earliest choice is the next minute, in local time as the input wants it.
  const soon = new Date(Date.now() + 60000);
  soon.setMinutes(soon.getMinutes() - soon.getTimezoneOffset());
  when.min = soon.toISOString().slice(0, 16);
  for (const radio of form.querySelectorAll("input[name=start]")) {
    radio.addEventListener("change", update);
  }
  update();
}
