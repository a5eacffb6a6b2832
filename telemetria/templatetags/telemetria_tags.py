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


def _places(d: Decimal) -> int:
    return max(0, -d.normalize().as_tuple().exponent)


@register.filter
def medida(value, dispositivo):
    """A value of `dispositivo` (a reading, a consumption) in pt-BR with the precision the
    meter measures: the decimal places of its fator_conversao (a raw register × 0.01
    reads to the hundredth: 702,70 kWh, not 702,7), more when the value has them; at most
    the 4 places readings are stored with."""
    try:
        return casas(value, _places(Decimal(str(dispositivo.fator_conversao))))
    except (InvalidOperation, AttributeError):
        return valor(value)


@register.filter(name="fator_casas")
def fator_places(fator) -> int:
    """The decimal places a meter with conversion factor `fator` measures (0.01 -> 2)."""
    return min(4, _places(Decimal(str(fator))))


@register.filter
def casas(value, places):
    """`value` in pt-BR with at least `places` decimals (the meters' precision, e.g. a
    total of meters reading to 0,001 m³: 93,620 next to 94,359, not 93,62), more when the
    value has them; at most the 4 places readings are stored with."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value))
        places = min(4, max(int(places or 0), _places(d)))
    except (InvalidOperation, ValueError, TypeError):
        return valor(value)
    return number_format(
        d.quantize(Decimal(1).scaleb(-places)), places, use_l10n=True, force_grouping=True
    )


@register.simple_tag
def format_config():
    """What tds-format.js needs from the server (the time zone of dates and times), as a
    json_script element; put it before the script."""
    return json_script({"time_zone": settings.TIME_ZONE}, "tds-format-config")


@register.filter
def reais(value):
    """An amount of money in pt-BR with two decimals (1.234,50)."""
    if value is None or value == "":
        return "—"
    return number_format(
        Decimal(str(value)).quantize(Decimal("0.01")), 2, use_l10n=True, force_grouping=True
    )
