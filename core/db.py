"""Query expressions shared by the selectors, and a migration operation for Postgres alone."""

from django.db.migrations.operations import RunSQL
from django.db.models import Exists, IntegerField, Subquery, Value


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated subquery: counts without multiplying the outer rows."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def exists_for(viewer, queryset_for_viewer):
    """An `Exists` annotation about the viewer, or a constant False when signed out."""
    if viewer is None or not viewer.is_authenticated:
        return Value(False)
    return Exists(queryset_for_viewer(viewer))


class PostgresOnlySQL(RunSQL):
    """SQL that only Postgres runs (a full-text index, say); on other databases the migration
    is a no-op. Kept out of the models' state on purpose: a SQLite table rebuild recreates
    every index the state names, and SQLite has no GIN."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
