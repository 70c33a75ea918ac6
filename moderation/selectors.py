"""Reads for staff: the report queue."""

from moderation.models import Report


def report_open_count() -> int:
    return Report.objects.filter(status=Report.Status.OPEN).count()
