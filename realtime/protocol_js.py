"""The socket protocols as an ES module for the browser (static/js/protocol.js), written from
their declarations by `manage.py protocol_doc` beside docs/protocol.md, under the same test:
the page's code names frames, close codes and reactions from it rather than typing them."""

import json

from realtime import close_codes as declared_close_codes
from realtime.protocol import Protocol

HEADER = """// @ts-check
// Generated from the frame declarations by `python manage.py protocol_doc`; a test fails
// when this file and the declarations differ. Do not edit it by hand.
"""


def _constant_name(name: str) -> str:
    """CLOSE_TRY_AGAIN → tryAgain."""
    first, *rest = name.removeprefix("CLOSE_").lower().split("_")
    return first + "".join(word.capitalize() for word in rest)


def _frozen(value) -> str:
    return f"Object.freeze({json.dumps(value, ensure_ascii=False, indent=2)})"


def close_codes() -> dict[str, int]:
    """The close codes the server sends, by name (realtime.close_codes)."""
    codes = {
        name: value
        for name, value in vars(declared_close_codes).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }
    return {
        _constant_name(name): value for name, value in sorted(codes.items(), key=lambda i: i[1])
    }


def protocol_module(protocols: list[Protocol], constants: dict[str, object]) -> str:
    """The module: CLOSE, one object per protocol (its frame types each way and the numbered
    ones), then `constants` (named values of the declarations, as lists)."""
    lines = [HEADER, f"export const CLOSE = {_frozen(close_codes())};", ""]
    for protocol in protocols:
        shape = {
            "path": protocol.path,
            "client": sorted(protocol.client),
            "server": sorted(protocol.server),
            "numbered": protocol.numbered,
        }
        lines += [f"export const {protocol.name.upper()} = {_frozen(shape)};", ""]
    for name, value in constants.items():
        lines += [f"export const {name} = {_frozen(value)};", ""]
    return "\n".join(lines).rstrip() + "\n"
