// "Remind me" toggles (templates/rooms/_remind_toggle.html). Without script the form posts
// and the page reloads; with it the API flips the reminder in place. One listener on the
// document, so toggles that arrive later (the hallway replaces its lists) work too.

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-remind]");
  if (!form) return;
  event.preventDefault();
  // Not `disabled` while the request runs: that would take keyboard focus off the button.
  if (form.ariaBusy === "true") return;
  const button = form.querySelector("button[aria-pressed]");
  const error = form.querySelector("[data-remind-error]");
  const wasOn = button.getAttribute("aria-pressed") === "true";
  form.ariaBusy = "true";
  error.textContent = "";
  try {
    const response = await fetch(form.dataset.remind, {
      method: wasOn ? "DELETE" : "POST",
      headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value, Accept: "application/json" },
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      error.textContent = body?.error?.message || "That did not work; try again.";
      return;
    }
    show(form, body.rsvp, wasOn);
  } catch {
    error.textContent = "You seem to be offline; try again.";
  } finally {
    form.ariaBusy = "false";
  }
});

function show(form, on, wasOn) {
  form.querySelector("button[aria-pressed]").setAttribute("aria-pressed", String(on));
  form.elements.remind.value = on ? "off" : "on";
  const count = form.closest("[data-room]")?.querySelector("[data-rsvp-count]");
  if (count && on !== wasOn) {
    count.textContent = String(Math.max(0, Number(count.textContent) + (on ? 1 : -1)));
  }
}
