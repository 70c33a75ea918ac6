"""What the tests and the benchmarks share: real processes (servers), live sockets (live),
the socket contract (contract), small helpers (helpers), network namespaces and the homes
behind NATs (netns, nat), the media stack and its peers (stack, crowd, peers), Chromium's
settings and the voice it plays (browser), and reading a room page's audio (pages).
Benchmarks import from here and nowhere else in tests/."""
