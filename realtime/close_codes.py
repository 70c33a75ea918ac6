"""The close codes the server's sockets end with, and what each means (for the protocol
page, docs/protocol.md, and the browser's static/js/protocol.js).

daphne sends only 1000 and 3000-4999 as close codes (anything else kills the consumer), so
every code here is in the 4000s; the last three digits echo the HTTP status they mean.
"""

CLOSE_NORMAL = 1000
# The server process is stopping (a deploy, a restart): come back at once, to another one.
# It echoes WebSocket's own 1012 "Service Restart", which daphne cannot send.
CLOSE_RESTARTING = 4012
CLOSE_UNAUTHENTICATED = 4401  # not signed in
CLOSE_FORBIDDEN = 4403  # not allowed here (locked out, removed, blocked)
CLOSE_NOT_FOUND = 4404  # no such room, or it ended
CLOSE_IDLE = 4408  # no ping for too long, or dropped by the presence sweep
CLOSE_REPLACED = 4409  # a newer connection of the same person took over
CLOSE_TOO_BIG = 4413  # a frame over the size limit
CLOSE_RATE_LIMITED = 4429  # too many frames, or too many new sockets
CLOSE_SERVER_ERROR = 4500  # a fault of ours; the client may reconnect
CLOSE_TRY_AGAIN = 4503  # Redis or the database is unreachable; reconnect later
# What each code means, for the protocol page (docs/protocol.md).
CLOSE_MEANINGS = {
    CLOSE_NORMAL: "The client left (`room.leave`), or a reply raced its own close.",
    CLOSE_RESTARTING: (
        "The server process is stopping (a deploy or a restart); reconnect at once. "
        "A member who comes back within the room's grace keeps their place."
    ),
    CLOSE_UNAUTHENTICATED: "Not signed in.",
    CLOSE_FORBIDDEN: "Not allowed here: removed from the room, blocked, locked out.",
    CLOSE_NOT_FOUND: "No such room, or it ended.",
    CLOSE_IDLE: "No ping for too long, or dropped by the presence sweep.",
    CLOSE_REPLACED: "Replaced by a newer connection of the same person.",
    CLOSE_TOO_BIG: "A frame over the socket's size limit.",
    CLOSE_RATE_LIMITED: "Too many frames, or too many sockets opened this minute.",
    CLOSE_SERVER_ERROR: "A fault of the server's (logged); reconnect.",
    CLOSE_TRY_AGAIN: "Redis or the database is unreachable; reconnect later.",
}
