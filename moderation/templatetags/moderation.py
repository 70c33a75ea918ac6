"""What the admin index shows staff about the moderation queue."""

from django import template

from moderation.selectors import report_open_count

register = template.Library()


@register.simple_tag
def open_report_count() -> int:
    return report_open_count()
