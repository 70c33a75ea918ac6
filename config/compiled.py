"""Querysets built and compiled once, run with real values.

Building a queryset with subqueries and compiling it costs Django more than Postgres takes
to run it: on the path every socket takes to join a room, that was the largest share of
the server's CPU. A `Compiled` query is built for stand-in values (numbers and UUIDs that
no real row has), compiled once per thread, and each call only puts the real values in
place of the stand-ins; the rows become model instances as Django's own iterable makes them
(select_related objects and annotations included).

On Postgres the query is also split around its parameters once: psycopg binds parameters
on the client, and re-parses a query longer than 4 KiB or with more than 50 parameters on
every run (it caches only smaller ones). The constant parameters are rendered as literals
once, by psycopg; each run renders only the real values, and sends the finished text.
"""

import re
import threading
import uuid
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError
from django.utils import timezone

# Values no row has: a person's or club's id, a room's id.
STAND_IN_ID = -(2**53) + 7
STAND_IN_UUID = uuid.UUID("00000000-0000-4000-8000-00000000a11e")

# The time of the call, in queries built with `times_are_now`.
_NOW = "now"


@dataclass
class _Plan:
    alias: str
    compiler: Any
    sql: str
    params: list
    locks: bool
    # Postgres: the query's text around its parameters; a str is SQL, a tuple names the
    # value that goes there.
    pieces: list[str | tuple[str]] | None

    def __post_init__(self) -> None:
        # The values the pieces take, each rendered once per run.
        self.slots = {piece[0] for piece in self.pieces or () if isinstance(piece, tuple)}


class Compiled:
    """`build(**stand_ins)` makes the queryset; `first(**values)` and `row(**values)` run it
    with `values` in place of the stand-ins, by name. With `times_are_now`, every time among
    the query's parameters is the time of the run (the query was built with the time of its
    compilation)."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        times_are_now: bool = False,
        **stand_ins: int | uuid.UUID,
    ):
        self.build = build
        self.times_are_now = times_are_now
        self.stand_ins = stand_ins
        self.local = threading.local()

    def first(self, **values: Any) -> Model | None:
        """The first model instance (a queryset of models), or None."""
        plan, rows = self._run(values, 1)
        return next(_instances(plan.compiler, plan.alias, rows), None)

    def row(self, **values: Any) -> tuple | None:
        """The first row as the database gave it (a `values_list` queryset), or None."""
        return next(iter(self.rows(_limit=1, **values)), None)

    def rows(self, _limit: int | None = None, **values: Any) -> list:
        """Every row (a `values_list` queryset)."""
        plan, rows = self._run(values, _limit)
        return list(plan.compiler.results_iter(results=[rows]))

    def _plan(self) -> _Plan:
        plan = getattr(self.local, "plan", None)
        if plan is None:
            # Times made while the query is built are "now" (with times_are_now).
            self.local.built = (timezone.now(), None)
            queryset = self.build(**self.stand_ins)
            self.local.built = (self.local.built[0], timezone.now())
            compiler = queryset.query.get_compiler(queryset.db)
            sql, params = compiler.as_sql()
            locks = bool(queryset.query.select_for_update)
            plan = self.local.plan = _Plan(
                alias=queryset.db,
                compiler=compiler,
                sql=sql,
                params=list(params),
                locks=locks and compiler.connection.features.has_select_for_update,
                pieces=self._pieces(compiler.connection, sql, params),
            )
        return plan

    def _made_while_built(self, param: Any) -> bool:
        """A time made while the query was built: a datetime, or the text SQLite keeps one
        as (UTC, without a zone)."""
        if isinstance(param, str):
            try:
                param = datetime.fromisoformat(param).replace(tzinfo=UTC)
            except ValueError:
                return False
        if not isinstance(param, datetime):
            return False
        start, end = self.local.built
        return start <= param <= end

    def _slot(self, param: Any) -> str | None:
        """The name of the value that goes where this parameter is, if it is not constant."""
        if self.times_are_now and self._made_while_built(param):
            return _NOW
        for name, stand_in in self.stand_ins.items():
            forms = [stand_in]
            if isinstance(stand_in, uuid.UUID):
                forms += [stand_in.hex, str(stand_in)]
            # Django hands a number in the select list over as psycopg's Int4 or Int8.
            if any(
                isinstance(param, type(form)) and not isinstance(param, bool) and param == form
                for form in forms
            ):
                return name
        return None

    def _pieces(self, connection, sql: str, params: list) -> list | None:
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            mogrify = getattr(cursor.cursor, "mogrify", None)
            if mogrify is None:
                return None  # server-side binding: psycopg sends the parameters apart
            pieces: list[str | tuple[str]] = []
            remaining = iter(params)
            for part in re.split(r"(%s|%%)", sql):
                if part == "%%":
                    pieces.append("%")
                elif part == "%s":
                    param = next(remaining)
                    slot = self._slot(param)
                    pieces.append((slot,) if slot else mogrify("%s", [param]))
                else:
                    pieces.append(part)
        return pieces

    def _values(self, values: dict[str, Any]) -> dict[str, Any]:
        real = {name: values[name] for name in self.stand_ins}
        for name, stand_in in self.stand_ins.items():
            if isinstance(stand_in, uuid.UUID):
                real[name] = uuid.UUID(str(real[name]))
            else:
                real[name] = int(real[name])
        real[_NOW] = timezone.now()
        return real

    def _run(self, values: dict[str, Any], limit: int | None) -> tuple[_Plan, list]:
        plan = self._plan()
        real = self._values(values)
        connection = connections[plan.alias]
        if plan.locks and connection.get_autocommit():
            raise TransactionManagementError("A locking query runs in a transaction.")
        with connection.cursor() as cursor:
            if plan.pieces is not None:
                # Each value rendered once, however often the query uses it.
                literal = {name: cursor.cursor.mogrify("%s", [real[name]]) for name in plan.slots}
                cursor.execute(
                    "".join(
                        piece if isinstance(piece, str) else literal[piece[0]]
                        for piece in plan.pieces
                    )
                )
            else:
                cursor.execute(plan.sql, self._filled(connection, plan.params, real))
            return plan, cursor.fetchall() if limit is None else cursor.fetchmany(limit)

    def _filled(self, connection, params: list, real: dict[str, Any]) -> list:
        """The parameters with the real values in place, in the form the backend prepared
        them (on SQLite, a UUID as its hex digits and a time as text)."""
        filled = []
        for param in params:
            slot = self._slot(param) if isinstance(param, Hashable) else None
            value = real[slot] if slot else param
            if slot == _NOW and isinstance(param, str):
                value = connection.ops.adapt_datetimefield_value(value)
            elif slot and isinstance(param, str):
                value = value.hex if len(param) == 32 else str(value)
            filled.append(value)
        return filled


def _instances(compiler, alias: str, rows: list) -> Iterator[Model]:
    """Model instances from rows of the compiled query, as Django's ModelIterable makes
    them: the model's columns, the select_related objects, then the annotations."""
    select, klass_info = compiler.select, compiler.klass_info
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    related = get_related_populators(klass_info, select, alias)
    for row in compiler.results_iter(results=[rows]):
        instance = model.from_db(alias, names, row[start:end])
        for populator in related:
            populator.populate(row, instance)
        for name, position in compiler.annotation_col_map.items():
            setattr(instance, name, row[position])
        yield instance
