// @ts-check
// The report dialog (templates/_report_dialog.html): a person, a chat message, the room or a
// moment of its replay, with a reason and a note, sent to the staff's queue
// (POST /api/reports/).

import { clock } from "../replay/time.js";

export class ReportDialog {
  constructor(root, { api, roomId, onSent }) {
    this.root = root;
    this.dialog = root.querySelector("[data-report-dialog]");
    this.api = api;
    this.roomId = roomId;
    this.target = null;
    this.dialog.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(/** @type {HTMLFormElement} */ (event.target)).then((sent) => sent && onSent());
    });
    this.dialog.querySelector("[data-action=report-cancel]").addEventListener("click", () => this.close());
  }

  // A person (`user`), a chat message (`{ message }`), a moment of the room's replay
  // (`{ replayAt }`, seconds), or the room (nothing).
  open(target) {
    const message = target?.message;
    const at = target?.replayAt;
    const user = message || at !== undefined ? null : target;
    if (message) this.target = { message: message.id };
    else if (at !== undefined) this.target = { room: this.roomId, replay_at: Math.floor(at) };
    else if (user) this.target = { user: user.username };
    else this.target = { room: this.roomId };
    this.root.querySelector("[data-report-heading]").textContent = message
      ? `Report this message by ${message.user.display_name}`
      : at !== undefined
        ? `Report the replay at ${clock(at)}`
        : user
          ? `Report ${user.display_name}`
          : "Report this room";
    this.root.querySelector("[data-report-error]").hidden = true;
    this.dialog.querySelector("form").reset();
    this.dialog.showModal();
  }

  close() {
    this.dialog.close();
  }

  async send(form) {
    try {
      await this.api("POST", "/api/reports/", {
        ...this.target,
        reason: form.reason.value,
        text: form.text.value,
      });
      this.dialog.close();
      return true;
    } catch (error) {
      const box = this.root.querySelector("[data-report-error]");
      box.textContent = error.message;
      box.hidden = false;
      return false;
    }
  }
}
