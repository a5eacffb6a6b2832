"""The daily digest e-mail (pt-BR) for members who asked for it: alarms open now, fired
and cleared yesterday, gateways offline, and yesterday's consumption per utility against
the day before (from the storage API, with its meter semantics)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from contas.models import Conta
from dispositivos.models import Dispositivo, Gateway, TipoDispositivo
from tds_core.localtime import local_date, local_midnight
from telemetria.storage import DAY, consumption_by_period

from .alarmes_bridge import EstadoAlarme, alarmes_para_resumo
from .models import Canal, Envio, PreferenciaMembro
from .outbox import agendar_entrega, membros

UTILIDADES = (TipoDispositivo.AGUA, TipoDispositivo.ENERGIA, TipoDispositivo.GAS)
MAX_LISTED = 30


@dataclass
class LinhaConsumo:
    utilidade: str
    unidade: str
    ontem: Decimal
    anteontem: Decimal

    @property
    def variacao(self) -> Decimal | None:
        """Percent change against the day before; None when that day had none."""
        if not self.anteontem:
            return None
        return ((self.ontem - self.anteontem) / self.anteontem * 100).quantize(Decimal("0.1"))

    @property
    def texto(self) -> str:
        """ "30 m³ (anterior: 20 m³; +50,0%)" in pt-BR number format."""
        line = _("%(ontem)s %(u)s (anterior: %(antes)s %(u)s") % {
            "ontem": _fmt(self.ontem), "antes": _fmt(self.anteontem), "u": self.unidade,
        }  # fmt: skip
        if self.variacao is not None:
            sign = "+" if self.variacao > 0 else ""
            line += f"; {sign}{formats.number_format(self.variacao, 1)}%"
        return line + ")"


def _fmt(value: Decimal) -> str:
    value = round(value, 3)
    value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return formats.number_format(value, force_grouping=True)


def consumo_por_utilidade(*, conta_id: int, dia: date) -> list[LinhaConsumo]:
    """Consumption of `dia` and of the day before, summed per utility and unit."""
    devices = {
        d.pk: d
        for d in Dispositivo.objects.filter(conta_id=conta_id, tipo__in=UTILIDADES, is_active=True)
    }
    if not devices:
        return []
    start, end = local_midnight(dia - timedelta(days=1)), local_midnight(dia + timedelta(days=1))
    rows = consumption_by_period(
        conta_id=conta_id, dispositivo_ids=list(devices), start=start, end=end, period=DAY
    )
    totals: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(
        lambda: defaultdict(lambda: Decimal(0))
    )
    for row in rows:
        if row.consumo is None:
            continue
        d = devices[row.dispositivo_id]
        local_day = local_date(row.bucket)
        totals[(d.tipo, d.unidade)][local_day] += row.consumo
    labels = dict(TipoDispositivo.choices)
    out = []
    for tipo in UTILIDADES:
        for (t, unidade), days in sorted(totals.items()):
            if t == tipo:
                out.append(
                    LinhaConsumo(
                        utilidade=str(labels[tipo]),
                        unidade=unidade,
                        ontem=days.get(dia, Decimal(0)),
                        anteontem=days.get(dia - timedelta(days=1), Decimal(0)),
                    )
                )
    return out


def resumo_contexto(*, conta: Conta, dia: date) -> dict:
    alarmes = alarmes_para_resumo(
        conta_id=conta.pk, inicio=local_midnight(dia), fim=local_midnight(dia + timedelta(days=1))
    )
    offline = list(
        Gateway.objects.filter(conta=conta, is_active=True, is_online=False).order_by("codigo")
    )
    return {
        "conta": conta,
        "dia": dia,
        "abertos": alarmes["abertos"],
        "disparados": alarmes["disparados"],
        "encerrados": alarmes["encerrados"],
        "gateways_offline": offline,
        "consumo": consumo_por_utilidade(conta_id=conta.pk, dia=dia),
        "max_listed": MAX_LISTED,
        "url": settings.TDS_PUBLIC_URL.rstrip("/"),
        "EstadoAlarme": EstadoAlarme,
    }


def resumo_render(*, conta: Conta, dia: date) -> tuple[str, str, str]:
    """(subject, text, html) of the account's digest for `dia`."""
    ctx = resumo_contexto(conta=conta, dia=dia)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[TDS] Resumo de %(dia)s — %(conta)s: %(n)d alarme(s) aberto(s)") % {
            "dia": dia.strftime("%d/%m/%Y"),
            "conta": conta.nome,
            "n": len(ctx["abertos"]),
        }
        text = render_to_string("notificacoes/email/resumo.txt", ctx)
        html = render_to_string("notificacoes/email/resumo.html", ctx)
    return subject[:300], text, html


def _referencia(pref: PreferenciaMembro, dia: date) -> str:
    return f"resumo:{pref.conta_id}:{pref.user_id}:{dia.isoformat()}"


def resumos_do_dia(*, dia: date | None = None) -> int:
    """Queues the digest of `dia` (default: yesterday, local) for every member who wants
    it; once per member, account and day however often it runs (the unique `referencia`
    holds even against a concurrent run). Queries: a fixed few, plus one digest rendered
    per account, whatever the number of members."""
    dia = dia or timezone.localdate() - timedelta(days=1)
    members = set(membros().values_list("conta_id", "user_id"))
    prefs = [
        pref
        for pref in PreferenciaMembro.objects.filter(
            resumo_diario=True, conta__is_active=True, user__is_active=True
        )
        .select_related("conta", "user")
        .order_by("conta_id", "user_id")
        if (pref.conta_id, pref.user_id) in members
    ]
    sent = set(
        Envio.objects.filter(referencia__in=[_referencia(p, dia) for p in prefs]).values_list(
            "referencia", flat=True
        )
    )
    rendered: dict[int, tuple[str, str, str]] = {}
    envios = []
    now = timezone.now()
    for pref in prefs:
        referencia = _referencia(pref, dia)
        if referencia in sent:
            continue
        if pref.conta_id not in rendered:
            rendered[pref.conta_id] = resumo_render(conta=pref.conta, dia=dia)
        subject, text, html = rendered[pref.conta_id]
        envios.append(
            Envio(
                conta_id=pref.conta_id,
                canal=Canal.EMAIL,
                endereco=pref.user.email,
                referencia=referencia,
                assunto=subject,
                corpo=text,
                payload={"tipo": "resumo", "html": html},
                proxima_tentativa_em=now,
            )
        )
    if envios:
        with transaction.atomic():
            Envio.objects.bulk_create(envios, ignore_conflicts=True)
            transaction.on_commit(agendar_entrega)
    return len(envios)
