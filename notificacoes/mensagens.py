"""What a notification says (pt-BR): subject, text and the webhook's JSON, from the alarm
snapshots stored in the outbox rows (rendering never re-reads an alarm)."""

from collections import Counter
from datetime import datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import SEVERIDADE_ORDEM, Evento, Severidade

# What happened to the alarm, as the subject and the text say it; every phrase a literal
# of its own so that makemessages finds it.
EVENTO_VERBO = {
    Evento.DISPARADO: gettext_lazy("disparado"),
    Evento.RECONHECIDO: gettext_lazy("reconhecido"),
    Evento.ENCERRADO: gettext_lazy("encerrado"),
    Evento.LEMBRETE: gettext_lazy("ainda ativo (lembrete)"),
    Evento.ESCALONAMENTO: gettext_lazy("sem reconhecimento (escalonado)"),
}


def alarme_url(alarme_id) -> str:
    return f"{settings.TDS_PUBLIC_URL.rstrip('/')}/alarmes/{alarme_id}/"


def _quando(iso: str | None) -> str:
    if not iso:
        return "—"
    moment = datetime.fromisoformat(iso)
    return formats.date_format(timezone.localtime(moment), "d/m/Y H:i")


def _severidade(code: str) -> str:
    return str(Severidade(code).label) if code in Severidade.values else code


def _evento(code: str) -> str:
    return str(EVENTO_VERBO.get(code, code))


def _alvo(d: dict) -> str:
    disp = d.get("dispositivo") or ""
    gw = d.get("gateway") or ""
    return f"{disp} ({gw})" if gw else disp


def _linha(item: dict) -> str:
    d = item["dados"]
    valor = f" · {d['valor']} {d.get('unidade') or ''}".rstrip() if d.get("valor") else ""
    return (
        f"• {_severidade(item['severidade'])} · {_evento(item['evento'])} · "
        f"{d.get('regra', '')} · {_alvo(d)}{valor} · {_quando(d.get('em'))}"
    )


def render(*, conta_nome: str, items: list[dict]) -> tuple[str, str, dict]:
    """(subject, text, webhook payload) for one or more outbox items of one endpoint.
    Each item: {"evento", "severidade", "alarme_id", "dados"}."""
    with translation.override(settings.LANGUAGE_CODE):
        if len(items) == 1:
            subject, text = _render_one(conta_nome, items[0])
        else:
            subject, text = _render_group(conta_nome, items)
    payload = {
        "tipo": "alarmes",
        "conta": conta_nome,
        "eventos": [
            {
                "evento": i["evento"],
                "severidade": i["severidade"],
                "alarme": i["alarme_id"],
                "url": alarme_url(i["alarme_id"]) if i["alarme_id"] else None,
                **{k: v for k, v in i["dados"].items() if k != "conta"},
            }
            for i in items
        ],
        "texto": text,
    }
    return subject, text, payload


def _render_one(conta_nome: str, item: dict) -> tuple[str, str]:
    d = item["dados"]
    sev = _severidade(item["severidade"])
    verbo = _evento(item["evento"])
    subject = f"[TDS] {sev}: {d.get('regra', '')} — {_alvo(d)} {verbo}"
    lines = [
        _("Alarme %(verbo)s") % {"verbo": verbo},
        "",
        _("Conta: %(v)s") % {"v": conta_nome},
        _("Regra: %(v)s") % {"v": d.get("regra", "")},
        _("Severidade: %(v)s") % {"v": sev},
        _("Dispositivo: %(v)s") % {"v": d.get("dispositivo", "")},
        _("Gateway: %(v)s") % {"v": d.get("gateway", "")},
    ]
    if d.get("valor"):
        lines.append(_("Valor: %(v)s") % {"v": f"{d['valor']} {d.get('unidade') or ''}".strip()})
    lines.append(_("Início: %(v)s") % {"v": _quando(d.get("inicio"))})
    if item["evento"] in (Evento.RECONHECIDO, Evento.ENCERRADO):
        lines.append(_("Em: %(v)s") % {"v": _quando(d.get("em"))})
    if d.get("usuario"):
        lines.append(_("Por: %(v)s") % {"v": d["usuario"]})
    if d.get("comentario"):
        lines.append(_("Comentário: %(v)s") % {"v": d["comentario"]})
    if item["alarme_id"]:
        lines += ["", alarme_url(item["alarme_id"])]
    return subject[:300], "\n".join(lines)


def _render_group(conta_nome: str, items: list[dict]) -> tuple[str, str]:
    counts = Counter(i["evento"] for i in items)
    parts = ", ".join(f"{n} {_evento(ev)}" for ev, n in counts.most_common())
    n = len(items)
    subject = ngettext("[TDS] %(n)d alarme: %(partes)s", "[TDS] %(n)d alarmes: %(partes)s", n) % {
        "n": n,
        "partes": parts,
    }
    head = _("%(n)d eventos de alarme na conta %(conta)s:") % {"n": n, "conta": conta_nome}
    ordered = sorted(items, key=lambda i: (-_rank(i["severidade"]), i["dados"].get("em") or ""))
    lines = [head, "", *(_linha(i) for i in ordered)]
    lines += ["", f"{settings.TDS_PUBLIC_URL.rstrip('/')}/alarmes/"]
    return subject[:300], "\n".join(lines)


def _rank(code: str) -> int:
    return -SEVERIDADE_ORDEM.get(code, len(SEVERIDADE_ORDEM))


def render_teste(*, conta_nome: str, destino_nome: str) -> tuple[str, str, dict]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[TDS] Mensagem de teste")
        text = _(
            "Esta é uma mensagem de teste do TDS New para o destino “%(destino)s” "
            "da conta %(conta)s. Se você a recebeu, o canal funciona."
        ) % {"destino": destino_nome, "conta": conta_nome}
    return subject, text, {"tipo": "teste", "conta": conta_nome, "eventos": [], "texto": text}
