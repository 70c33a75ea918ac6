"""The socket protocols as a Markdown page (docs/protocol.md), written from their
declarations by `manage.py protocol_doc`, so the page cannot drift from the code."""

import inspect as pyinspect
import json

import msgspec.inspect as types

from realtime.close_codes import CLOSE_MEANINGS
from realtime.protocol import Protocol

HEADER = """# Socket protocols

Generated from the frame declarations (`rooms/protocol.py`, `notifications/protocol.py`,
`realtime/protocol.py`) by `python manage.py protocol_doc`; a test fails when this page and the
declarations differ. Do not edit it by hand.

Every frame is a JSON object whose `type` names it. Frames from a browser first pass the
gate in `realtime/gate.py` (size, JSON, depth, number ranges; `error {code: "malformed"}`),
then their declaration: a type that is not declared gets `error {code: "unknown_type"}`, a
frame that does not match its declaration `error {code: "invalid"}` naming the field at
fault. Fields a frame does not declare are ignored; a frame's `ref` (a string or a number)
is echoed in the `error` that answers it. Frames from the server carry exactly the fields
declared for them.
"""


def _doc(declared: type) -> str:
    text = declared.__dict__.get("__doc__")
    return " ".join(pyinspect.cleandoc(text).split()) if text else ""


def _range(low, high, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}{unit}"
    if low is not None:
        return f"≥ {low}{unit}"
    return f"≤ {high}{unit}" if high is not None else ""


def _type(info: types.Type, shapes: dict) -> str:  # noqa: PLR0911 (one answer per kind)
    if isinstance(info, types.IntType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else None)
        high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else None)
        span = _range(low, high, "")
        return f"integer {span}".strip()
    if isinstance(info, types.StrType):
        details = []
        if info.pattern:
            details.append(f"matching `{info.pattern}`")
        else:
            span = _range(info.min_length or None, info.max_length, " characters")
            if span:
                details.append(span)
        return " ".join(["string", *details])
    if isinstance(info, types.BoolType):
        return "boolean"
    if isinstance(info, types.NoneType):
        return "null"
    if isinstance(info, types.DateTimeType):
        return "date-time (ISO 8601)"
    if isinstance(info, types.LiteralType):
        return " \\| ".join(json.dumps(value, ensure_ascii=False) for value in info.values)
    if isinstance(info, types.ListType):
        return f"list of {_type(info.item_type, shapes)}"
    if isinstance(info, types.UnionType):
        return " or ".join(_type(member, shapes) for member in info.types)
    if isinstance(info, types.StructType):
        shapes.setdefault(info.cls.__name__, info)
        return f"[{info.cls.__name__}](#{info.cls.__name__.lower()})"
    return type(info).__name__.removesuffix("Type").lower()


def _fields(info: types.StructType, shapes: dict) -> list[str]:
    if not info.fields:
        return ["No fields."]
    rows = ["| Field | Type | |", "| --- | --- | --- |"]
    for field in info.fields:
        presence = "required" if field.required else "optional"
        rows.append(f"| `{field.encode_name}` | {_type(field.type, shapes)} | {presence} |")
    return rows


def _frames(title: str, frames: dict, shapes: dict, *, numbered: list[str] | None) -> list[str]:
    lines = [f"### {title}", ""]
    for kind, declared in frames.items():
        info = types.type_info(declared)
        mark = " (numbered: carries `seq`)" if numbered is not None and kind in numbered else ""
        lines += [f"#### `{kind}`{mark}", ""]
        if _doc(declared):
            lines += [_doc(declared), ""]
        lines += [*_fields(info, shapes), ""]
    return lines


def _shapes(shapes: dict) -> list[str]:
    lines = []
    done: set[str] = set()
    while len(done) < len(shapes):
        name = sorted(set(shapes) - done)[0]
        done.add(name)
        info = shapes[name]
        lines += [f"#### {name}", ""]
        if _doc(info.cls):
            lines += [_doc(info.cls), ""]
        lines += [*_fields(info, shapes), ""]
    return lines


def protocol_markdown(protocols: list[Protocol]) -> str:
    lines = [HEADER]
    for protocol in protocols:
        shapes: dict = {}
        lines += [f"## The {protocol.name} socket: `{protocol.path}`", "", protocol.about, ""]
        lines += _frames("Client → server", protocol.client, shapes, numbered=None)
        lines += _frames("Server → client", protocol.server, shapes, numbered=protocol.numbered)
        if shapes:
            lines += ["### Shapes inside frames", "", *_shapes(shapes)]
    lines += ["## Close codes", "", "| Code | Meaning |", "| --- | --- |"]
    lines += [f"| {code} | {meaning} |" for code, meaning in sorted(CLOSE_MEANINGS.items())]
    return "\n".join(lines).rstrip() + "\n"
