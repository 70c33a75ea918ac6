// @ts-check
// A live room on a phone: the system's media controls and lock screen show the room (the
// Media Session: title, host, artwork) with pause and play, the microphone and leave; and
// the screen stays awake while the reader is on stage (Screen Wake Lock), so a phone does
// not lock in the middle of what they say. Both are offered where the browser has them.

export class LockScreen {
  /**
   * @param {{ pause: () => void, play: () => void, toggleMicrophone: () => void,
   *   leave: () => void }} actions
   */
  constructor(actions, { session = navigator.mediaSession, wakeLock = navigator.wakeLock } = {}) {
    this.session = session;
    this.wakeLock = wakeLock;
    /** @type {WakeLockSentinel | null} */
    this.lock = null;
    this.wantsLock = false;
    if (session) {
      const handlers = {
        pause: actions.pause,
        play: actions.play,
        togglemicrophone: actions.toggleMicrophone,
        hangup: actions.leave,
        stop: actions.leave,
      };
      for (const [action, handler] of Object.entries(handlers)) {
        try {
          session.setActionHandler(/** @type {MediaSessionAction} */ (action), handler);
        } catch {
          // An action this browser does not know.
        }
      }
    }
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.keepAwake(this.wantsLock);
    };
    document.addEventListener("visibilitychange", this.onVisible);
  }

  /** What the lock screen says: the room, its host, a picture. */
  show({ title, host, artwork, paused, onStage, muted }) {
    if (!this.session) return;
    if ("MediaMetadata" in window) {
      this.session.metadata = new MediaMetadata({
        title,
        artist: host ? `Hosted by ${host}` : "",
        album: "Roundtable",
        artwork: artwork ? [{ src: new URL(artwork, location.href).href }] : [],
      });
    }
    this.session.playbackState = paused ? "paused" : "playing";
    if (onStage && "setMicrophoneActive" in this.session) {
      this.session.setMicrophoneActive(!muted);
    }
  }

  /** On stage, the screen stays awake; a lock the system took back (the tab hidden) is
   * asked for again when the tab shows. */
  keepAwake(on) {
    this.wantsLock = on;
    if (!on) {
      this.lock?.release().catch(() => {});
      this.lock = null;
      return;
    }
    if (this.lock && !this.lock.released) return;
    if (!this.wakeLock || document.visibilityState !== "visible") return;
    this.wakeLock.request("screen").then(
      (lock) => {
        if (this.wantsLock) this.lock = lock;
        else lock.release().catch(() => {});
      },
      () => {
        this.lock = null; // refused (battery saver, a policy): the screen may lock
      },
    );
  }

  /** The room is over for the reader. */
  close() {
    this.keepAwake(false);
    document.removeEventListener("visibilitychange", this.onVisible);
    if (!this.session) return;
    this.session.metadata = null;
    this.session.playbackState = "none";
    for (const action of ["pause", "play", "togglemicrophone", "hangup", "stop"]) {
      try {
        this.session.setActionHandler(/** @type {MediaSessionAction} */ (action), null);
      } catch {
        // As above.
      }
    }
  }
}
