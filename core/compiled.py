"""Querysets built and compiled once, run with real values.

Building a queryset with subqueries and compiling it costs Django more than Postgres takes
to run it: on the path every socket takes to join a room, that was the largest share of
the server's CPU. A `Compiled` query is built for stand-in values (numbers and UUIDs that
no real row has), compiled once per thread, and each call only puts the real values in
place of the stand-ins; the rows become model instances as Django's own iterable makes them
(select_related objects and annotations included).

On Postgres the query is also a prepared statement on each connection that runs it: the
constant parameters are rendered as literals once, by psycopg, the values become the
statement's parameters, and each run sends only `EXECUTE` with the values. Postgres then
plans it once per connection rather than every run (the join's query took 4.6 ms to plan
and 1.5 ms to run), and psycopg, which binds parameters on the client, no longer parses a
long query again on every run (it caches only those under 4 KiB and 50 parameters). A
prepared statement lives as long as its connection (connections are pooled), so this
assumes every connection is the application's own: no pooler in transaction mode between.
"""

import itertools
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet, signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery
from django.db.transaction import TransactionManagementError
from django.utils import timezone

M = TypeVar("M", bound=Model)

# Values no row has: a person's or club's id, a room's id.
STAND_IN_ID = -(2**53) + 7
STAND_IN_UUID = uuid.UUID("00000000-0000-4000-8000-00000000a11e")

# The time of the call, in queries built with `times_are_now`.
_NOW = "now"

# The names of prepared statements, and which of them each (psycopg) connection has.
_statement_numbers = itertools.count(1)
_prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class _Statement:
    """The query as a Postgres prepared statement that takes the values as parameters."""

    name: str
    prepare: str  # PREPARE name (types) AS query
    execute: str  # EXECUTE name(%s, ...), psycopg's placeholders for `values`
    values: list[str]  # the values' names, in the order EXECUTE takes them

    def run(self, cursor, connection, real: dict[str, Any]) -> None:
        prepared = _prepared_on.setdefault(connection.connection, set())
        if self.name not in prepared:
            # Once per connection, as the settings Django sends when it connects, and like
            # them not among the queries Django counts. It outlives a rollback.
            with connection.wrap_database_errors:
                cursor.cursor.execute(self.prepare)
            prepared.add(self.name)
        cursor.execute(self.execute, [real[value] for value in self.values])


@dataclass
class _Plan:
    alias: str
    compiler: Any
    sql: str
    params: list
    locks: bool
    statement: _Statement | None  # Postgres with parameters bound on the client

    def __post_init__(self) -> None:
        # What turns a row's columns into Python values, worked out once (Django's
        # results_iter does it on every call).
        self.fields = [column[0] for column in self.compiler.select[: self.compiler.col_count]]
        self.converters = self.compiler.get_converters(self.fields)
        self.composite = self.compiler.has_composite_fields(self.fields)

    def results(self, rows: list) -> Iterator:
        """The rows as `compiler.results_iter` gives them."""
        results = iter(rows)
        if self.converters:
            results = self.compiler.apply_converters(results, self.converters)
        if self.composite:
            results = self.compiler.composite_fields_to_tuples(results, self.fields)
        return results


class Compiled:
    """`build(**stand_ins)` makes the queryset; `first(**values)` and `row(**values)` run it
    with `values` in place of the stand-ins, by name. With `times_are_now`, every time among
    the query's parameters is the time of the run (the query was built with the time of its
    compilation). With `shared`, a queryset that selects rows for update locks them `FOR
    SHARE` instead, on Postgres (Django has no such lock): others may read and share-lock
    them meanwhile, and whoever wants to change them waits."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        times_are_now: bool = False,
        shared: bool = False,
        **stand_ins: int | uuid.UUID,
    ):
        self.build = build
        self.times_are_now = times_are_now
        self.shared = shared
        self.stand_ins = stand_ins
        self.local = threading.local()

    def first(self, **values: Any) -> Model | None:
        """The first model instance (a queryset of models), or None."""
        plan, rows = self._run(values, 1)
        return next(_instances(plan, rows), None)

    def row(self, **values: Any) -> tuple | None:
        """The first row as the database gave it (a `values_list` queryset), or None."""
        return next(iter(self.rows(_limit=1, **values)), None)

    def rows(self, _limit: int | None = None, **values: Any) -> list:
        """Every row (a `values_list` queryset)."""
        plan, rows = self._run(values, _limit)
        return list(plan.results(rows))

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
            if locks and self.shared:
                sql = _shared(sql, compiler.connection)
            plan = self.local.plan = _Plan(
                alias=queryset.db,
                compiler=compiler,
                sql=sql,
                params=list(params),
                locks=locks and compiler.connection.features.has_select_for_update,
                statement=self._statement(compiler.connection, sql, params),
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

    def _statement(self, connection, sql: str, params: list) -> _Statement | None:
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            mogrify = getattr(cursor.cursor, "mogrify", None)
            if mogrify is None:
                return None  # server-side binding: psycopg prepares statements itself
            names: list[str] = []
            text = []
            remaining = iter(params)
            for part in re.split(r"(%s|%%)", sql):
                if part == "%%":
                    text.append("%")
                elif part == "%s":
                    param = next(remaining)
                    slot = self._slot(param)
                    if slot is None:
                        text.append(mogrify("%s", [param]))
                        continue
                    if slot not in names:
                        names.append(slot)
                    text.append(f"${names.index(slot) + 1}")
                else:
                    text.append(part)
        name = f"compiled_{next(_statement_numbers)}"
        types = ", ".join(self._pg_type(slot) for slot in names)
        return _Statement(
            name=name,
            prepare=f"PREPARE {name} ({types}) AS {''.join(text)}",
            execute=f"EXECUTE {name}({', '.join(['%s'] * len(names))})",
            values=names,
        )

    def _pg_type(self, slot: str) -> str:
        if slot == _NOW:
            return "timestamptz"
        return "uuid" if isinstance(self.stand_ins[slot], uuid.UUID) else "bigint"

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
            if plan.statement is not None:
                plan.statement.run(cursor, connection, real)
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


def _shared(sql: str, connection) -> str:
    """The query with its `FOR UPDATE` (the last clause Postgres has, if any) made `FOR
    SHARE`."""
    if connection.vendor != "postgresql":
        return sql  # SQLite locks the whole database; it has no row locks to choose
    head, clause, tail = sql.rpartition(" FOR UPDATE")
    if not clause or ")" in tail.replace('"', ""):
        raise ValueError(f"No locking clause at the end of: {sql}")
    return f"{head} FOR SHARE{tail}"


def _instances(plan: _Plan, rows: list) -> Iterator[Model]:
    """Model instances from rows of the compiled query, as Django's ModelIterable makes
    them: the model's columns, the select_related objects, then the annotations."""
    compiler, alias = plan.compiler, plan.alias
    select, klass_info = compiler.select, compiler.klass_info
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    related = get_related_populators(klass_info, select, alias)
    for row in plan.results(rows):
        instance = model.from_db(alias, names, row[start:end])
        for populator in related:
            populator.populate(row, instance)
        for name, position in compiler.annotation_col_map.items():
            setattr(instance, name, row[position])
        yield instance


@dataclass
class _InsertPlan:
    alias: str
    compiler: Any
    sql: str
    fields: list
    returning: list
    converters: dict


class CompiledInsert(Generic[M]):
    """One model's single-row INSERT, compiled once per thread: `create(**values)` makes the
    instance and writes it as `Model.objects.create` would (the fields' defaults and
    `pre_save`, the columns the database returns), without Django building and compiling
    the statement every time.

    It sends no save signals, so it hands over to `objects.create` while the model has
    receivers for them, and while a value is an expression (its SQL is not a parameter)."""

    def __init__(self, model: type[M]):
        self.model = model
        self.local = threading.local()

    def create(self, **values: Any) -> M:
        instance = self.model(**values)
        plan = self._plan(instance)
        params = (
            None
            if plan is None or _has_save_receivers(self.model)
            else [
                plan.compiler.prepare_value(field, plan.compiler.pre_save_val(field, instance))
                for field in plan.fields
            ]
        )
        if params is None or any(hasattr(param, "as_sql") for param in params):
            instance.save(force_insert=True)
            return instance
        connection = connections[plan.alias]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            returned = connection.ops.fetch_returned_insert_columns(
                cursor, plan.compiler.returning_params
            )
        if plan.converters:
            returned = next(plan.compiler.apply_converters([returned], plan.converters))
        for value, field in zip(returned, plan.returning, strict=True):
            setattr(instance, field.attname, value)
        instance._state.adding = False
        instance._state.db = plan.alias
        return instance

    def _plan(self, instance: M) -> _InsertPlan | None:
        """The thread's plan; None where the database returns no columns from an INSERT, or
        a value of the first instance was an expression."""
        if not hasattr(self.local, "plan"):
            meta = self.model._meta
            fields = [
                field
                for field in meta.local_concrete_fields
                if not field.generated and field is not meta.auto_field
            ]
            query = InsertQuery(self.model)
            query.insert_values(fields, [instance])
            alias = router.db_for_write(self.model)
            compiler = query.get_compiler(alias)
            compiler.returning_fields = meta.db_returning_fields
            ((sql, params),) = compiler.as_sql()
            columns = [field.get_col(meta.db_table) for field in meta.db_returning_fields]
            compilable = compiler.connection.features.can_return_columns_from_insert and len(
                params
            ) == len(fields)
            self.local.plan = (
                _InsertPlan(
                    alias=alias,
                    compiler=compiler,
                    sql=sql,
                    fields=fields,
                    returning=meta.db_returning_fields,
                    converters=compiler.get_converters(columns),
                )
                if compilable
                else None
            )
        return self.local.plan


def _has_save_receivers(model: type[Model]) -> bool:
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
