// Page set-up under Turbo Drive (navigation.js). A module runs once per document, and Turbo
// swaps pages in and out of that document: what a module does to a page, it does to the
// first one and again to each page Turbo shows after it (`turbo:load`), once per page.

export function onEveryPage(setUp) {
  const done = new WeakSet();
  const run = () => {
    // Each page Turbo shows comes with a body of its own.
    if (done.has(document.body)) return;
    done.add(document.body);
    setUp();
  };
  run();
  document.addEventListener("turbo:load", run);
}
