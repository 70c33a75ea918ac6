"""The settings reference (docs/reference/settings.md), written from the settings module's
source by `manage.py settings_doc`, so the page cannot drift from what the settings read.

Each environment variable is documented where it is read, by `#:` comment lines directly
above the line of its first `env(...)` or `env.<kind>(...)` call, as Sphinx documents
attributes; ordinary comments may sit in the same block, for the code's readers. The lines
are one row of the page's table:

    #: default: `0` (`make` sets `1`)
    #: Development mode. With it off, ...
    DEBUG = env.bool("DEBUG", default=False)

The `default:` line is for a default that readers see otherwise than the code says it (a
value that depends on DEBUG, a path); without it the row shows the call's `default=`,
computed when it is a literal or arithmetic on literals, else as written. A variable that
shares the row of one read before it says only `#: with <NAME>`. Rows follow the source.

A variable without its comment fails the page, naming it: a new setting cannot land
undocumented. The page is made from the source text, which the command passes in, because
comments do not survive import (and core/ imports neither config/ nor an app).
"""

import ast
import io
import operator
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HEADER = """# Settings

Every setting comes from the environment (or a `.env` file next to `manage.py`).

Generated from the `#:` comments in `config/settings.py` by `python manage.py settings_doc`; a
test fails when this page and the settings differ. Do not edit it by hand.

| Variable | Default | What it does |
| --- | --- | --- |
"""

FOOTER = """
A production start is `make serve-prod` ([the production layout](../operations/production.md));
`manage.py check --deploy` is clean with `DEBUG=0`, `SECRET_KEY`, `ALLOWED_HOSTS` and the
security defaults.
"""

DOC = "#:"
SHOWN_DEFAULT = "default:"
SAME_ROW = "with "

_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


@dataclass(eq=False)
class _Row:
    shown_default: str | None
    description: str
    reads: list[tuple[str, ast.Call]] = field(default_factory=list)


def _is_env(func: ast.expr) -> bool:
    """`env` itself or one of its readers (`env.int`, `env.db`, ...)."""
    if isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id == "env"


def _reads(tree: ast.Module) -> list[tuple[str, ast.Call]]:
    """Each call that reads a variable named by a literal, in the order of the source. A name
    held in a variable cannot carry a comment; the settings read each of those by literal too."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_env(node.func) and node.args:
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((name.value, node))
    return sorted(found, key=lambda read: (read[1].lineno, read[1].col_offset))


def _comment_lines(source: str) -> dict[int, str]:
    """The comment of every line that holds nothing else, by line number."""
    return {
        token.start[0]: token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and token.line.strip().startswith("#")
    }


def _doc_lines(line: int, comments: dict[int, str]) -> list[int]:
    """The `#:` lines of the comment block that ends just above `line`."""
    found: list[int] = []
    line -= 1
    while line in comments:
        if comments[line].startswith(DOC):
            found.insert(0, line)
        line -= 1
    return found


def _constant(node: ast.expr) -> Any:
    """A literal's value, arithmetic on literals included (`2 * 1024 * 1024`)."""
    if isinstance(node, ast.BinOp):
        apply = _ARITHMETIC.get(type(node.op))
        if apply is None:
            raise ValueError("not arithmetic on literals")
        return apply(_constant(node.left), _constant(node.right))
    return ast.literal_eval(node)


def _default(call: ast.Call, source: str) -> str:
    given = next((keyword.value for keyword in call.keywords if keyword.arg == "default"), None)
    if given is None:
        return "required"
    try:
        value = _constant(given)
    except (ValueError, TypeError):
        return f"`{ast.get_source_segment(source, given)}`"
    if value in ("", []):
        return "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _line(row: _Row, source: str) -> str:
    names = ", ".join(f"`{name}`" for name, _ in row.reads)
    if row.shown_default is None:
        defaults = [_default(call, source) for _, call in row.reads]
        shown = ", ".join(dict.fromkeys(defaults))
    else:
        shown = row.shown_default
    return f"| {names} | {_cell(shown)} | {_cell(row.description)} |"


def settings_markdown(source: str) -> str:
    """The page for the settings module whose source is `source`.

    Raises ValueError, naming each variable that has no `#:` comment, and each comment that
    documents nothing or a variable twice.
    """
    comments = _comment_lines(source)
    rows: dict[str, _Row] = {}
    problems = []
    used: set[int] = set()
    for name, call in _reads(ast.parse(source)):
        lines = _doc_lines(call.lineno, comments)
        used.update(lines)
        doc = [comments[line].removeprefix(DOC).strip() for line in lines]
        if name in rows:
            if doc:
                problems.append(f"{name} is documented twice (line {call.lineno}).")
            continue
        if len(doc) == 1 and doc[0].startswith(SAME_ROW):
            lead = doc[0].removeprefix(SAME_ROW).strip()
            if lead not in rows:
                problems.append(
                    f"{name} (line {call.lineno}) goes with {lead}, read nowhere before it."
                )
                continue
            rows[name] = rows[lead]
        else:
            shown = None
            if doc and doc[0].startswith(SHOWN_DEFAULT):
                shown = doc.pop(0).removeprefix(SHOWN_DEFAULT).strip()
            description = " ".join(" ".join(doc).split())
            if not description:
                problems.append(
                    f"{name} (line {call.lineno}) is read without a `#:` comment above the "
                    "line saying what it does (docs/reference/settings.md is written from them)."
                )
                continue
            rows[name] = _Row(shown, description)
        rows[name].reads.append((name, call))
    problems += [
        f"The `#:` comment on line {line} is above no variable read."
        for line in sorted(set(comments) - used)
        if comments[line].startswith(DOC)
    ]
    if problems:
        raise ValueError("\n".join(problems))
    table = [_line(row, source) for row in dict.fromkeys(rows.values())]
    return HEADER + "\n".join(table) + "\n" + FOOTER
