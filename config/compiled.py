"""Querysets built and compiled once, run with real values.

Building a queryset with subqueries and compiling it costs Django more than Postgres takes
to run it: on the path every socket takes to join a room, that was the largest share of
the server's CPU. A `Compiled` query is built for stand-in values (numbers and UUIDs that
no real row has), compiled once per thread, and each call only puts the real values in the
compiled parameters; the rows become model instances as Django's own iterable makes them
(select_related objects and annotations included).
"""

import threading
import uuid
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

# Values no row has: a person's or club's id, a room's id.
STAND_IN_ID = -(2**53) + 7
STAND_IN_UUID = uuid.UUID("00000000-0000-4000-8000-00000000a11e")


class Compiled:
    """`build(**stand_ins)` makes the queryset; `first(**values)` runs it with `values` in
    place of the stand-ins, by name."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins: int | uuid.UUID):
        self.build = build
        self.stand_ins = stand_ins
        self.local = threading.local()

    def _compiled(self) -> tuple:
        compiled = getattr(self.local, "compiled", None)
        if compiled is None:
            queryset = self.build(**self.stand_ins)
            compiler = queryset.query.get_compiler(queryset.db)
            sql, params = compiler.as_sql()
            locks = bool(queryset.query.select_for_update)
            compiled = self.local.compiled = (queryset.db, compiler, sql, list(params), locks)
        return compiled

    def _filled(self, params: list, values: dict[str, Any]) -> list:
        """The parameters with each stand-in replaced, in the form the backend prepared it
        (a UUID as an object, or as its hex digits on SQLite)."""
        real: dict[Hashable, Any] = {}
        for name, stand_in in self.stand_ins.items():
            value = values[name]
            real[stand_in] = value
            if isinstance(stand_in, uuid.UUID):
                value = uuid.UUID(str(value))
                real[stand_in] = value
                real[stand_in.hex] = value.hex
                real[str(stand_in)] = str(value)
        return [real.get(p, p) if isinstance(p, Hashable) else p for p in params]

    def first(self, **values: Any) -> Model | None:
        alias, compiler, sql, params, locks = self._compiled()
        connection = connections[alias]
        if locks and connection.get_autocommit():
            raise TransactionManagementError("A locking query runs in a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(sql, self._filled(params, values))
            rows = cursor.fetchmany(1)
        return next(_instances(compiler, alias, rows), None)


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
