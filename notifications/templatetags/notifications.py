from django import template

from notifications.selectors import unread_count as count_unread

register = template.Library()


@register.simple_tag
def unread_count(user) -> int:
    return count_unread(user=user) if user.is_authenticated else 0
