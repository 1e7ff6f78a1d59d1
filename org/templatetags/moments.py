"""`{{ when|moment }}`: a time that names its day unless it is today (org.time)."""

from django import template
from django.utils import timezone

from org.time import moment_label

register = template.Library()


@register.filter
def moment(when):
    """The time, with the date whenever `when` is not today in the program's time zone."""
    if not when:
        return ""
    return moment_label(when, now=timezone.now())
