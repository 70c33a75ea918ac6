// @ts-check
// One <audio> element per stream we hear, by source: a peer's user id in the mesh, a
// connection to the media server (which mixes the stage). When the browser blocks autoplay,
// a "Tap to listen" button starts them all with the user's gesture.

export class Playback {
  constructor(container, tapButton) {
    this.container = container;
    this.tapButton = tapButton;
    this.elements = new Map();
    this.mutedSources = new Set();
    this.paused = false; // the reader paused the room (the lock screen's pause)
    tapButton.addEventListener("click", () => this.unblock());
  }

  attach(source, stream) {
    let element = this.elements.get(source);
    if (!element) {
      element = document.createElement("audio");
      element.autoplay = true;
      element.dataset.source = String(source);
      this.container.append(element);
      this.elements.set(source, element);
    }
    element.muted = this.mutedSources.has(source);
    if (element.srcObject !== stream) element.srcObject = stream;
    if (!this.paused) this.play(element);
  }

  // Pauses or resumes everything heard (a live room: what is said meanwhile is missed).
  setPaused(paused) {
    this.paused = paused;
    for (const element of this.elements.values()) {
      if (paused) element.pause();
      else this.play(element);
    }
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
  setMuted(source, muted) {
    if (muted) this.mutedSources.add(source);
    else this.mutedSources.delete(source);
    const element = this.elements.get(source);
    if (element) element.muted = muted;
  }

  detach(source) {
    const element = this.elements.get(source);
    if (!element) return;
    element.pause();
    element.srcObject = null;
    element.remove();
    this.elements.delete(source);
  }

  playing() {
    return [...this.elements.keys()];
  }

  clear() {
    for (const source of [...this.elements.keys()]) this.detach(source);
    this.tapButton.hidden = true;
  }
}
