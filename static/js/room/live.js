// @ts-check
// The room this document is in, for what outlives the room page: the docked player
// (static/js/player.js) keeps the room's page alive while the person browses other pages
// (Turbo swaps pages in one document, navigation.js) and shows it docked at the bottom.
// main.js opens it once; there is at most one per document.

class LiveRoom extends EventTarget {
  // { id, root, state, speaking(userId), mute(), leave(), over }: `root` is the room page's
  // element, `over` the title of what ended it ("You left the room") or null.
  current = null;
  // A room page ran in this document: its module will not run again in it (modules run once
  // per document), so another room's page needs a document of its own.
  opened = false;

  open(room) {
    this.current = { ...room, over: null };
    this.opened = true;
    this.changed();
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  end(title) {
    if (this.current) this.current.over = title;
    this.changed();
  }

  // Forgotten: left from the player, or its page was left after it ended.
  close() {
    this.current = null;
    this.changed();
  }
}

export const liveRoom = new LiveRoom();
