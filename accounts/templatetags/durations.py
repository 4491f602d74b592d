import datetime

from django import template

register = template.Library()


@register.filter
def total_minutes(value: datetime.timedelta | None) -> int:
    """Whole minutes of a duration, rounded up, for "try again in N minutes"."""
    if not value:
        return 0
    return -(-int(value.total_seconds()) // 60)
