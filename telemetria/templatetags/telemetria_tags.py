"""Template filters of the telemetry pages."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

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
