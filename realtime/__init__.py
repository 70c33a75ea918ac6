"""The real-time kernel the socket apps build on: how a socket protocol is declared and
checked (protocol, gate), what every consumer shares (consumers, session, close codes,
channel-layer messages), the channel layers on Redis, delivery after commit, and how a web
process stops. It imports no app and not the composition root (config)."""
