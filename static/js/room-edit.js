// The "Edit the room" form: the server fills the date field with the room's time as a UTC
// wall clock (which works without script); this shows it in the browser's time zone and
// sends that zone with the form.

const form = document.querySelector("[data-room-edit-form]");
if (form) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const when = form.querySelector("input[type=datetime-local]");
  if (form.hasAttribute("data-utc") && when.value) {
    const moment = new Date(`${when.value}:00Z`);
    moment.setMinutes(moment.getMinutes() - moment.getTimezoneOffset());
    when.value = moment.toISOString().slice(0, 16);
  }
  form.querySelector("[data-time-zone]").value = zone;
  form.querySelector("[data-time-zone-label]").textContent = zone;
}
