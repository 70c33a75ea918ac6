// Turbo Drive (static/vendor/turbo/): a link or form of ours fetches the next page and swaps
// its body into this document instead of loading a new one, so what outlives a page keeps
// running — the room someone listens to, with the docked player (player.js). Without
// script, links and forms load pages as they always did; the admin, the API's docs and
// signing in, up and out (a new session, a new document) are full loads (data-turbo="false"
// on their links and forms).
//
// Modules run once per document while the pages come and go: a module that sets up a page
// does it with onEveryPage (pages.js).

import "../vendor/turbo/turbo.es2017-esm.js";
