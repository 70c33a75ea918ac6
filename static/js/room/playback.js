// One <audio> element per speaker we hear. When the browser blocks autoplay, a "Tap to
// listen" button starts them all with the user's gesture.

export class Playback {
  constructor(container, tapButton) {
    this.container = container;
    this.tapButton = tapButton;
    this.elements = new Map();
    this.mutedPeople = new Set();
    tapButton.addEventListener("click", () => this.unblock());
  }

  attach(userId, stream) {
    let element = this.elements.get(userId);
    if (!element) {
      element = document.createElement("audio");
      element.autoplay = true;
      element.dataset.userId = String(userId);
      this.container.append(element);
      this.elements.set(userId, element);
    }
    element.muted = this.mutedPeople.has(userId);
    if (element.srcObject !== stream) element.srcObject = stream;
    this.play(element);
  }

  play(element) {
    element.play().catch((error) => {
      if (error.name === "NotAllowedError") this.tapButton.hidden = false;
    });
  }

  unblock() {
    this.tapButton.hidden = true;
    for (const element of this.elements.values()) this.play(element);
  }

  // Someone muted on the server is not played, whatever their browser still sends.
  setMuted(userId, muted) {
    if (muted) this.mutedPeople.add(userId);
    else this.mutedPeople.delete(userId);
    const element = this.elements.get(userId);
    if (element) element.muted = muted;
  }

  detach(userId) {
    const element = this.elements.get(userId);
    if (!element) return;
    element.pause();
    element.srcObject = null;
    element.remove();
    this.elements.delete(userId);
  }

  clear() {
    for (const userId of [...this.elements.keys()]) this.detach(userId);
    this.tapButton.hidden = true;
  }
}
