// @ts-check
// The REST calls the room page makes, with the session's CSRF token: JSON in and out, and
// the API's error message (core/api.py) as the Error's message.

export function restApi(csrf) {
  return async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error?.message ?? `The server said ${response.status}.`);
    return data;
  };
}

const person = (user) => `/api/users/${encodeURIComponent(user.username)}/`;

// Following, blocking and what the reader's relation to someone is, as the profile API says.
export function peopleApi(api) {
  return {
    block: (user) => api("POST", `${person(user)}block/`),
    follow: (user, on) => api(on ? "POST" : "DELETE", `${person(user)}follow/`),
    relation: (user) => api("GET", person(user)),
  };
}
