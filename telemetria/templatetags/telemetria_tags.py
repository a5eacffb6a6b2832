"""Template filters of the telemetry pages."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.html import json_script

register = template.Library()


@register.filter
def valor(value):
    """A reading's value in pt-BR without trailing zeros (1.059,5), like the page's JS."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value)).normalize()
    except InvalidOperation:
        return value
    if d == d.to_integral():
        d = d.quantize(Decimal(1))
    return number_format(d, use_l10n=True, force_grouping=True)


@register.simple_tag
def format_config():
    """What tds-format.js needs from the server (the time zone of dates and times), as a
    json_script element; put it before the script."""
    return json_script({"time_zone": settings.TIME_ZONE}, "tds-format-config")
