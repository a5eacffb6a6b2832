"""Time ranges of the dashboard and the API, and the server-side bucket for a range.

Ranges are `1h`, `24h`, `7d`, `30d` (ending now) or `custom` with `inicio`/`fim`.
`inicio`/`fim` accept ISO 8601 dates or date-times; without an offset they are read as
wall time in America/Sao_Paulo (the user's clock), a date meaning its midnight. The
bucket is the smallest "round" width that keeps a series at or under MAX_POINTS.
"""

import datetime as dt
import itertools
import math
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_POINTS = 1000
MAX_SPAN = dt.timedelta(days=732)

RELATIVE = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
CHOICES = [
    ("1h", gettext_lazy("1 h")),
    ("24h", gettext_lazy("24 h")),
    ("7d", gettext_lazy("7 d")),
    ("30d", gettext_lazy("30 d")),
    ("custom", gettext_lazy("personalizado")),
]
DEFAULT = "24h"

BUCKETS = [
    dt.timedelta(seconds=s)
    for s in (
        10,
        30,
        60,
        120,
        300,
        600,
        900,
        1800,
        3600,
        7200,
        10800,
        21600,
        43200,
        86400,
        2 * 86400,
        7 * 86400,
    )
]


class PeriodoInvalido(ValueError):
    """A bad range parameter; `field` names the parameter, `message` says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Periodo:
    nome: str
    inicio: dt.datetime
    fim: dt.datetime

    @property
    def span(self) -> dt.timedelta:
        return self.fim - self.inicio

    @property
    def bucket(self) -> dt.timedelta:
        return bucket_for(self.span)


def bucket_for(span: dt.timedelta) -> dt.timedelta:
    for bucket in BUCKETS:
        if math.ceil(span / bucket) <= MAX_POINTS:
            return bucket
    return BUCKETS[-1]


def bucket_label(bucket: dt.timedelta) -> str:
    seconds = int(bucket.total_seconds())
    if seconds % 86400 == 0:
        return _("%(n)d d") % {"n": seconds // 86400}
    if seconds % 3600 == 0:
        return _("%(n)d h") % {"n": seconds // 3600}
    if seconds % 60 == 0:
        return _("%(n)d min") % {"n": seconds // 60}
    return _("%(n)d s") % {"n": seconds}


def duration_label(seconds: float) -> str:
    """A gap between points, rounded in its largest unit (59 s, 2 min, 1 h, 3 d)."""
    if round(seconds) < 60:
        return _("%(n)d s") % {"n": round(seconds)}
    if round(seconds / 60) < 60:
        return _("%(n)d min") % {"n": round(seconds / 60)}
    if round(seconds / 3600) < 36:
        return _("%(n)d h") % {"n": round(seconds / 3600)}
    return _("%(n)d d") % {"n": round(seconds / 86400)}


def series_summary(times: list[dt.datetime], bucket: dt.timedelta) -> str:
    """What a chart's points are: how many, how far apart they actually are, and the
    server's bucket each one averages. A point exists only for a bucket with readings, so
    24 h of hourly history in 2-minute buckets is 24 points an hour apart, not "an
    interval of 2 min"."""
    n = len(times)
    each = bucket_label(bucket)
    if n == 0:
        return _("Nenhum ponto")
    if n == 1:
        return _("1 ponto (a média das leituras de %(bucket)s)") % {"bucket": each}
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    if max(gaps) <= bucket.total_seconds() * 1.5:
        return _("%(n)d pontos, um a cada %(bucket)s") % {"n": n, "bucket": each}
    lo, hi = duration_label(min(gaps)), duration_label(max(gaps))
    if lo == hi:
        return _(
            "%(n)d pontos, um a cada %(gap)s (cada um, a média das leituras de %(bucket)s)"
        ) % {
            "n": n,
            "gap": hi,
            "bucket": each,
        }
    return _(
        "%(n)d pontos, de %(lo)s a %(hi)s entre um e outro (cada um, a média das leituras de"
        " %(bucket)s)"
    ) % {"n": n, "lo": lo, "hi": hi, "bucket": each}


def parse_instant(value: str, *, field: str) -> dt.datetime:
    value = (value or "").strip()
    if not value:
        raise PeriodoInvalido(field, _("obrigatório"))
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise PeriodoInvalido(field, _("data/hora inválida; use AAAA-MM-DD ou AAAA-MM-DDTHH:MM"))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def parse_periodo(params, *, default: str = DEFAULT, now: dt.datetime | None = None) -> Periodo:
    """The range of a request's GET parameters (`periodo`, `inicio`, `fim`)."""
    now = now or timezone.now()
    nome = (params.get("periodo") or "").strip()
    if not nome:
        nome = "custom" if params.get("inicio") or params.get("fim") else default
    if nome in RELATIVE:
        return Periodo(nome=nome, inicio=now - RELATIVE[nome], fim=now)
    if nome != "custom":
        raise PeriodoInvalido("periodo", _("use 1h, 24h, 7d, 30d ou custom"))
    inicio = parse_instant(params.get("inicio", ""), field="inicio")
    fim = parse_instant(params.get("fim", ""), field="fim")
    if fim <= inicio:
        raise PeriodoInvalido("fim", _("deve ser posterior ao início"))
    if fim - inicio > MAX_SPAN:
        raise PeriodoInvalido("fim", _("período máximo de 2 anos"))
    return Periodo(nome="custom", inicio=inicio, fim=fim)
