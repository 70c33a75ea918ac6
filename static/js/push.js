// Web Push on the notification settings page: registers the service worker (/sw.js),
// subscribes this browser with the server's VAPID key and hands the subscription to the API,
// or unsubscribes it. Also offers the browser's time zone for quiet hours.

import { onEveryPage } from "./pages.js";
import { pushFailure, ServerRefusal } from "./push-errors.js";

// The settings page's push section (Turbo may show the page more than once per document).
let section = null;

function base64UrlToBytes(text) {
  const base64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function offerBrowserTimeZone() {
  const select = document.getElementById("id_time_zone");
  const start = document.getElementById("id_quiet_start");
  if (!select || !start || select.value || start.value) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if ([...select.options].some((option) => option.value === zone)) select.value = zone;
}

async function send(method, subscription) {
  const headers = {
    Accept: "application/json",
    "X-CSRFToken": section.querySelector("[name=csrfmiddlewaretoken]").value,
  };
  const request = { method, credentials: "same-origin", headers };
  let address = section.dataset.pushApi;
  if (method === "DELETE") {
    address += `?${new URLSearchParams({ endpoint: subscription.endpoint })}`;
  } else {
    headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(subscription.toJSON());
  }
  const response = await fetch(address, request);
  if (!response.ok && response.status !== 404) {
    const answer = await response.json().catch(() => ({}));
    throw new ServerRefusal(answer.error?.message || `The server answered ${response.status}.`);
  }
}

function setUp() {
  const status = section.querySelector("[data-push-status]");
  const toggle = section.querySelector("[data-push-toggle]");
  let registration = null;

  const show = (text, subscribed) => {
    status.textContent = text;
    toggle.hidden = subscribed == null;
    toggle.textContent = subscribed ? "Turn off for this browser" : "Turn on for this browser";
    toggle.dataset.subscribed = subscribed ? "1" : "";
  };

  const turnOn = async () => {
    const permission = await Notification.requestPermission();
    if (permission === "denied") {
      show("Notifications are blocked for this site. Allow them in your browser's site settings, then try again.", false);
      return;
    }
    if (permission !== "granted") {
      show("Notifications were not allowed. Press the button again to be asked again.", false);
      return;
    }
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToBytes(section.dataset.pushKey),
    });
    await send("POST", subscription);
    show("Push notifications are on for this browser.", true);
  };

  const turnOff = async () => {
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await send("DELETE", subscription);
      await subscription.unsubscribe();
    }
    show("Push notifications are off for this browser.", false);
  };

  toggle.addEventListener("click", async () => {
    toggle.disabled = true;
    try {
      await (toggle.dataset.subscribed ? turnOff() : turnOn());
    } catch (error) {
      show(`That did not work. ${pushFailure(error)}`, Boolean(toggle.dataset.subscribed));
    } finally {
      toggle.disabled = false;
    }
  });

  (async () => {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      show("This browser cannot receive push notifications (they need HTTPS and a browser that supports them).", null);
      return;
    }
    try {
      registration = await navigator.serviceWorker.register(section.dataset.pushWorker, { scope: "/" });
      const subscription = await registration.pushManager.getSubscription();
      if (subscription && Notification.permission === "granted") {
        // The server may have dropped it (its push service said it expired) or it may belong
        // to someone else who used this browser: hand it over again.
        await send("POST", subscription);
        show("Push notifications are on for this browser.", true);
      } else if (Notification.permission === "denied") {
        show("Notifications are blocked for this site. Allow them in your browser's site settings to turn push on.", false);
      } else {
        show("Push notifications are off for this browser.", false);
      }
    } catch (error) {
      show(`Push notifications are not available here. ${pushFailure(error)}`, null);
    }
  })();
}

onEveryPage(() => {
  section = document.getElementById("push");
  offerBrowserTimeZone();
  if (section) setUp();
});
