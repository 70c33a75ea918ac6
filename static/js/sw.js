// The service worker: shows the Web Push notifications the server sends (notifications/push.py)
// and opens the room (through the inbox, which marks it read) in a new window when one is
// clicked.
// Served at /sw.js so that its scope is the whole site.

self.addEventListener("push", (event) => {
  let message;
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const title = message.title || "Roundtable";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      tag: message.tag || undefined,
      data: { url: message.url || "/notifications/" },
    }),
  );
});

// A new window, never an open one navigated away: that one may be in a live room.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || "/notifications/", self.location.origin);
  event.waitUntil(self.clients.openWindow(url.href));
});
