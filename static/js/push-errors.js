// What the push settings say when turning push on or off fails: the server's own sentence,
// or, for what the browser refused, a sentence a person can act on rather than the browser's
// raw message ("AbortError: Registration failed - push service error").

// The server refused: its message is meant for people.
export class ServerRefusal extends Error {}

const BROWSER = {
  NotAllowedError: "Notifications were not allowed. Allow them in your browser's site settings, then try again.",
  NotSupportedError: "This browser cannot receive push notifications here.",
  InvalidStateError: "This browser's push service is not ready. Reload the page and try again.",
};
const UNREACHABLE =
  "This browser's push service could not be reached. Try again later; some browsers do not offer push in private windows.";

export function pushFailure(error) {
  if (error instanceof ServerRefusal) return error.message;
  // fetch's own failure: the site, not the push service, was out of reach.
  if (error instanceof TypeError) return "The site could not be reached. Check your connection and try again.";
  return BROWSER[error?.name] ?? UNREACHABLE;
}
