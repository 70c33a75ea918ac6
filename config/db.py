"""Query expressions shared by the selectors."""

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
