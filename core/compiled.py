"""Querysets built once, run with each call's values.

Building a queryset with subqueries and compiling it costs Django more than Postgres takes
to run it: on the path every socket takes to join a room, that was the largest share of
the server's CPU. A `Compiled` query is built once per thread, with a `Param` expression
wherever a call's value goes; its SQL is kept, and each call runs that SQL with the values
in place of the parameters, with a cursor: rows as the database gives them, or model
instances made as `raw()` makes them (`Model.from_db`, each field's `from_db_value`).

On Postgres the query is also a prepared statement on each connection that runs it
(`PREPARE`, once per connection): the constant parameters are written into it as literals
by psycopg (`psycopg.sql.Literal`), the values are the statement's parameters, and each run
sends only `EXECUTE` with the values. Postgres then plans it once per connection rather than
every run (the join's query took 4.6 ms to plan and 1.5 ms to run), and psycopg no longer
parses a long query again on every run (it caches only those under 4 KiB and 50
parameters; the join's is longer). A prepared statement lives as long as its connection
(connections are pooled), so this assumes every connection is the application's own: no
pooler in transaction mode between.
"""

import itertools
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Expression, Field, Model, QuerySet
from django.db.transaction import TransactionManagementError
from psycopg import sql


@dataclass(frozen=True)
class _Slot:
    """A parameter of the SQL that takes a call's value."""

    name: str


class Param(Expression):
    """Where a call's value goes in a `Compiled` query, by name, as a value of
    `output_field`'s type."""

    def __init__(self, name: str, output_field: Field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [_Slot(self.name)]


# `FOR UPDATE` or `FOR SHARE`, with the tables it names, as the last clause of a query.
_LOCK = re.compile(r" FOR (UPDATE|SHARE)( OF [^()]*)?$")

# The names of prepared statements, and which of them each psycopg connection has.
_statement_numbers = itertools.count(1)
_prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class _Statement:
    """The query as a Postgres prepared statement that takes the call's values."""

    name: str
    sql: str  # the query, `$1`, `$2`… for the values and literals for the rest
    types: list[str]  # the values' types, in order

    @property
    def execute(self) -> str:
        """EXECUTE with the values as the cursor's parameters."""
        return f"EXECUTE {self.name}({', '.join(['%s'] * len(self.types))})"

    def prepare_on(self, cursor) -> None:
        """Prepares the statement on the cursor's connection, once. Not through Django's
        cursor: it is set-up, like the settings sent on connecting, not one of the queries
        Django counts; and it outlives a rollback."""
        prepared = _prepared_on.setdefault(cursor.connection, set())
        if self.name not in prepared:
            types = ", ".join(self.types)
            cursor.connection.execute(f"PREPARE {self.name} ({types}) AS {self.sql}")
            prepared.add(self.name)


@dataclass
class _Plan:
    model: type[Model]
    alias: str
    sql: str
    params: list
    locks: bool
    statement: _Statement | None = None  # on Postgres
    reader: "_Reader | None" = None  # on Postgres, once it ran


class _Reader:
    """Model instances from the rows of a plan's query on Postgres, as `raw()` makes them:
    the model's fields by column name (through `Model.from_db`), the other columns as
    attributes."""

    def __init__(self, plan: _Plan, columns: list[str]):
        self.model, self.alias = plan.model, plan.alias
        self.connection = connections[plan.alias]
        fields = [f for f in self.model._meta.concrete_fields if f.column in columns]
        self.names = [field.attname for field in fields]
        self.places = [columns.index(field.column) for field in fields]
        self.converters = [
            (index, field.from_db_value)
            for index, field in enumerate(fields)
            if hasattr(field, "from_db_value")
        ]
        known = {field.column for field in fields}
        self.annotations = [
            (place, name) for place, name in enumerate(columns) if name not in known
        ]

    def instance(self, row: tuple) -> Model:
        values = [row[place] for place in self.places]
        for index, convert in self.converters:
            values[index] = convert(values[index], None, self.connection)
        instance = self.model.from_db(self.alias, self.names, values)
        for place, name in self.annotations:
            setattr(instance, name, row[place])
        return instance


class Compiled:
    """`build(**params)` makes the queryset, given a `Param` for each name of `params`
    (name=model field of the value's type); `first(**values)` and `rows(**values)` run it
    with those values. With `shared`, a queryset that selects rows for update locks them
    `FOR SHARE` instead, on Postgres (Django has no such lock): others may read and
    share-lock them meanwhile, and whoever wants to change them waits."""

    def __init__(self, build: Callable[..., QuerySet], *, shared: bool = False, **params: Field):
        self.build = build
        self.shared = shared
        self.params = params
        self.local = threading.local()

    def first(self, **values: Any) -> Model | None:
        """The first model instance, with its annotations as attributes (the database's own
        values), or None. Columns are matched to fields by name, as `raw()` does, and no
        related objects are loaded: the queryset has no `select_related`."""
        plan, sql, params = self._prepared(values)
        if plan.statement is None:
            # SQLite: Django's `raw()`, which converts what SQLite gives (text for times and
            # UUIDs, numbers for booleans).
            rows = plan.model._default_manager.raw(sql, params, using=plan.alias)
            return next(iter(rows), None)
        # Postgres gives every value its Python type; only a field's own `from_db_value`
        # remains. The columns' places are worked out once (`raw()` does it on every run).
        with connections[plan.alias].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
            if plan.reader is None:
                plan.reader = _Reader(plan, [column[0] for column in cursor.description])
        return None if row is None else plan.reader.instance(row)

    def rows(self, **values: Any) -> list[tuple]:
        """Every row of a `values_list` queryset, as the database gives it."""
        plan, sql, params = self._prepared(values)
        with connections[plan.alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def row(self, **values: Any) -> tuple | None:
        """The first row of `rows`, or None."""
        return next(iter(self.rows(**values)), None)

    def _plan(self) -> _Plan:
        plan = getattr(self.local, "plan", None)
        if plan is None:
            queryset = self.build(
                **{name: Param(name, field) for name, field in self.params.items()}
            )
            sql, params = queryset.query.sql_with_params()
            lock = _LOCK.search(sql)
            if lock and self.shared:
                sql = sql[: lock.start()] + f" FOR SHARE{lock.group(2) or ''}"
            plan = self.local.plan = _Plan(
                model=queryset.model,
                alias=queryset.db,
                sql=sql,
                params=list(params),
                locks=lock is not None,
            )
        return plan

    def _prepared(self, values: dict[str, Any]) -> tuple[_Plan, str, list]:
        """The plan, the SQL to run and its parameters, with the call's values in their
        database form."""
        plan = self._plan()
        connection = connections[plan.alias]
        if plan.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        given = {
            name: field.get_db_prep_value(values[name], connection)
            for name, field in self.params.items()
        }
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if plan.statement is None:
                    plan.statement = self._statement(cursor, connection, plan)
                plan.statement.prepare_on(cursor)
            return plan, plan.statement.execute, list(given.values())
        return plan, plan.sql, [given[p.name] if isinstance(p, _Slot) else p for p in plan.params]

    def _statement(self, cursor, connection, plan: _Plan) -> _Statement:
        names = list(self.params)
        # Django's SQL takes its parameters in the DB-API's `format` style: `%s` for each, `%%`
        # for a percent sign.
        text = plan.sql % tuple(
            f"${names.index(p.name) + 1}"
            if isinstance(p, _Slot)
            else sql.Literal(p).as_string(cursor.connection)
            for p in plan.params
        )
        return _Statement(
            name=f"compiled_{next(_statement_numbers)}",
            sql=text,
            types=[field.db_type(connection) for field in self.params.values()],
        )
