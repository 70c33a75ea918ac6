// @ts-check
// Recording on the room page: the moderators' switch, with its confirmation, and the reader's
// consent to be recorded, asked when the room records and they are on stage without it.
// What to say and when to ask is decided in recording.js; this wires it to the dialogs.

import { out } from "./frames.js";
import {
  asksRecordConsent,
  consentCopy,
  needsRecordConsent,
  recordingCopy,
} from "./recording.js";
import { onStage } from "./state.js";

// A dialog closed by the page because its question no longer stands.
const OBSOLETE = "obsolete";

export class RecordingDialogs {
  constructor(root, { state, view, send, retentionDays }) {
    this.root = root;
    this.state = state;
    this.view = view;
    this.send = send;
    this.retentionDays = retentionDays;
    this.recordDialog = root.querySelector("[data-record-dialog]");
    this.consentDialog = root.querySelector("[data-consent-dialog]");
    this.startingRecording = false; // we asked to start it: the server takes our consent with it
    this.consentDismissed = false; // answered "not now" (or stayed muted) for this recording
    this.unmuteAfterConsent = false; // asked while unmuting: they unmute once they agree
    this.consentOnReturn = false; // asked from the docked player: asked again back in the room
    this.recordDialog.addEventListener("close", () => this.recordAnswered());
    this.consentDialog.addEventListener("close", () => this.consentAnswered());
  }

  consentNeeded() {
    const { recording, me, recordConsent } = this.state;
    return needsRecordConsent({ recording, me, consented: recordConsent });
  }

  // While the person browses other pages the room's page is parked in the docked player.
  parked() {
    return !this.root.isConnected || Boolean(this.root.closest("[data-player-keep]"));
  }

  recordingChanged(recording) {
    if (recording && this.startingRecording) this.state.recordConsent = true;
    this.startingRecording = false;
    this.consentDismissed = false;
    if (this.recordDialog.open) this.recordDialog.close(OBSOLETE);
  }

  // The server refused to start or stop recording.
  refused() {
    this.startingRecording = false;
  }

  askRecording() {
    const copy = recordingCopy({ recording: this.state.recording, retentionDays: this.retentionDays });
    this.root.querySelector("[data-record-heading]").textContent = copy.title;
    this.root.querySelector("[data-record-text]").textContent = copy.text;
    this.root.querySelector("[data-record-confirm]").textContent = copy.confirm;
    this.recordDialog.dataset.on = String(!this.state.recording);
    this.recordDialog.returnValue = "";
    this.recordDialog.showModal();
  }

  recordAnswered() {
    if (this.recordDialog.returnValue !== "confirm") return;
    const on = this.recordDialog.dataset.on === "true";
    this.startingRecording = on;
    this.send(out.recordingSet(on));
  }

  askConsent({ unmute = false, started = false } = {}) {
    const me = this.state.me;
    if (!me || !onStage(me)) return;
    if (unmute) this.unmuteAfterConsent = true;
    if (this.parked()) {
      // The question needs the room's page: back to it (the player's link), asked there.
      this.consentOnReturn = true;
      /** @type {HTMLElement | null} */ (document.querySelector("[data-player-link]"))?.click();
      return;
    }
    if (this.consentDialog.open) return;
    const copy = consentCopy({ role: me.role, started, retentionDays: this.retentionDays });
    this.root.querySelector("[data-consent-heading]").textContent = copy.title;
    this.root.querySelector("[data-consent-text]").textContent = copy.text;
    this.root.querySelector("[data-consent-note]").textContent = copy.declineNote;
    this.root.querySelector("[data-consent-agree]").textContent = copy.agree;
    this.root.querySelector("[data-consent-decline]").textContent = copy.decline;
    this.consentDialog.returnValue = "";
    this.consentDialog.showModal();
  }

  consentAnswered() {
    const answer = this.consentDialog.returnValue;
    const unmute = this.unmuteAfterConsent;
    this.unmuteAfterConsent = false;
    if (answer === OBSOLETE) return;
    if (answer === "agree") {
      if (!this.send(out.recordConsent(true))) return;
      this.state.recordConsent = true;
      if (unmute) this.send(out.unmute());
      else this.view.announce("Thank you. Press Unmute to talk.");
    } else {
      // Declined: a speaker goes back to the audience, a moderator stays muted. Escape leaves
      // things as they are: muted, and asked again on Unmute.
      this.consentDismissed = true;
      if (answer === "decline" && this.send(out.recordConsent(false))) {
        this.state.recordConsent = false;
      }
    }
  }

  // After every change: the question is asked when it stands (once per recording unless they
  // unmute), and taken back when it no longer does (recording stopped, off the stage).
  follow({ started = false } = {}) {
    if (this.recordDialog.open && !this.state.iModerate) this.recordDialog.close(OBSOLETE);
    if (!this.consentNeeded()) {
      this.unmuteAfterConsent = false;
      this.consentOnReturn = false;
      if (this.consentDialog.open) this.consentDialog.close(OBSOLETE);
      return;
    }
    if (this.parked()) return;
    const asks = asksRecordConsent({
      recording: this.state.recording,
      me: this.state.me,
      consented: this.state.recordConsent,
      dismissed: this.consentDismissed && !this.consentOnReturn,
    });
    this.consentOnReturn = false;
    if (asks) this.askConsent({ started });
  }

  // The server refused to bring the reader on stage or unmute them without consent.
  consentRequired(frame) {
    this.state.recordConsent = false;
    if (frame.ref === "accept" || !onStage(this.state.me)) {
      this.view.status(frame.message, { error: true });
      this.view.render();
      return;
    }
    this.askConsent({ unmute: frame.ref === "unmute" });
  }

  // Unmute, asking first when the room records and they have not agreed.
  toggleMute() {
    const me = this.state.me;
    if (!me) return;
    if (!me.muted) {
      this.send(out.mute());
    } else if (this.consentNeeded()) {
      this.askConsent({ unmute: true });
    } else {
      this.send(out.unmute());
    }
  }

  // The invitation said the room records (view.js): accepting is agreeing.
  accept() {
    const recording = Boolean(this.state.recording);
    if (this.send(out.speakerAccept(recording)) && recording) this.state.recordConsent = true;
  }

  // The room is over for the reader: no question stands.
  close() {
    for (const dialog of [this.recordDialog, this.consentDialog]) {
      if (dialog.open) dialog.close(OBSOLETE);
    }
  }
}
