"""What the admin index shows staff about the moderation queue."""

from django import template

from accounts.models import Report

register = template.Library()


@register.simple_tag
def open_report_count() -> int:
    return Report.objects.filter(status=Report.Status.OPEN).count()
