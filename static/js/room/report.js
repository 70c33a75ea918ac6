// @ts-check
// The report dialog: a person, a chat message or the room, with a reason and a note, sent to
// the staff's queue (POST /api/reports/).

export class ReportDialog {
  constructor(root, { api, roomId, onSent }) {
    this.root = root;
    this.dialog = root.querySelector("[data-report-dialog]");
    this.api = api;
    this.roomId = roomId;
    this.target = null;
    this.dialog.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(event.target).then((sent) => sent && onSent());
    });
  }

  // A person (`user`), a chat message (`{ message }`), or the room (nothing).
  open(target) {
    const message = target?.message;
    const user = message ? null : target;
    this.target = message ? { message: message.id } : user ? { user: user.username } : { room: this.roomId };
    this.root.querySelector("[data-report-heading]").textContent = message
      ? `Report this message by ${message.user.display_name}`
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
