"""Alarm pages. Thin: selectors read (404 for another account's id), services write
(their ValidationErrors go onto the form or into a message). Every role reads; admin
and operador act on alarms and edit rules, others get 403."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contas.forms import apply_validation_error
from contas.permissions import EDIT_REGISTRY, conta_required
from telemetria.periodos import Periodo
from telemetria.selectors import device_series

from . import selectors, services
from .events import alarm_payload, iso
from .forms import AlarmeFilterForm, ComentarioForm, RegraForm
from .links import alarm_links
from .models import EstadoAlarme, RegraAlarme
from .preview import regra_preview

PAGE_SIZE = 25


def _can_act(request) -> bool:
    return request.membership is not None and request.membership.role in EDIT_REGISTRY


# --- alarms ------------------------------------------------------------------------


@conta_required()
def alarme_list(request):
    form = AlarmeFilterForm(request.GET or None, conta=request.conta)
    qs = selectors.alarme_list(conta=request.conta, **form.selector_kwargs())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alarmes/alarme_list.html",
        {
            "filter_form": form,
            "page_obj": page,
            "counts": selectors.alarme_counts(conta=request.conta),
            "estados": EstadoAlarme.choices,
            "EstadoAlarme": EstadoAlarme,
            "filtered": any(
                request.GET.get(k) for k in ("estado", "severidade", "gateway", "regra")
            ),
        },
    )


def _chart(request, alarme) -> dict | None:
    if alarme.dispositivo_id is None:
        return None
    fim = alarme.fim or timezone.now()
    span = max(fim - alarme.inicio, timedelta(hours=1))
    periodo = Periodo(nome="custom", inicio=alarme.inicio - span, fim=fim + span / 2)
    pontos = device_series(conta=request.conta, dispositivo=alarme.dispositivo, periodo=periodo)
    return {
        "unidade": alarme.dispositivo.unidade,
        "de": iso(periodo.inicio),
        "ate": iso(periodo.fim),
        "inicio": iso(alarme.inicio),
        "fim": iso(alarme.fim),
        "pontos": [
            {
                "t": iso(p.bucket),
                "min": str(p.minimo),
                "max": str(p.maximo),
                "avg": str(p.media),
            }
            for p in pontos
        ],
        "limites": [
            str(v)
            for v in (
                getattr(alarme.regra, "limite_superior", None),
                getattr(alarme.regra, "limite_inferior", None),
            )
            if v is not None and alarme.tipo == "limite"
        ],
    }


@conta_required()
def alarme_detail(request, pk):
    alarme = selectors.alarme_get(conta=request.conta, pk=pk)
    return render(
        request,
        "alarmes/alarme_detail.html",
        {
            "alarme": alarme,
            "historico": selectors.alarme_history(alarme=alarme),
            "can_act": _can_act(request),
            "comentario_form": ComentarioForm(),
            "chart": _chart(request, alarme),
            "links": alarm_links(request=request, alarme=alarme),
            "EstadoAlarme": EstadoAlarme,
        },
    )


def _act(request, pk, action):
    alarme = selectors.alarme_get(conta=request.conta, pk=pk)
    form = ComentarioForm(request.POST)
    comentario = form.cleaned_data["comentario"] if form.is_valid() else ""
    try:
        action(alarme, comentario)
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    return redirect("alarmes:detail", pk=alarme.pk)


@require_POST
@conta_required(*EDIT_REGISTRY)
def alarme_ack(request, pk):
    def act(alarme, comentario):
        services.alarm_acknowledge(alarme=alarme, usuario=request.user, comentario=comentario)
        messages.success(request, _("Alarme reconhecido."))

    return _act(request, pk, act)


@require_POST
@conta_required(*EDIT_REGISTRY)
def alarme_clear(request, pk):
    def act(alarme, comentario):
        services.alarm_clear(alarme=alarme, usuario=request.user, comentario=comentario)
        messages.success(request, _("Alarme encerrado."))

    return _act(request, pk, act)


@require_POST
@conta_required(*EDIT_REGISTRY)
def alarme_comment(request, pk):
    def act(alarme, comentario):
        services.alarm_comment(alarme=alarme, usuario=request.user, comentario=comentario)
        messages.success(request, _("Comentário registrado."))

    return _act(request, pk, act)


@require_GET
@conta_required()
def alarme_resumo(request):
    """Open count and the newest open alarms, for the live badge to catch up after a
    reconnect (JSON, session only)."""
    items = selectors.open_alarms(conta=request.conta, limit=10)
    return JsonResponse(
        {
            "abertos": selectors.open_alarm_count(conta=request.conta),
            "alarmes": [alarm_payload(a) for a in items],
        }
    )


# --- rules -------------------------------------------------------------------------


@conta_required()
def regra_list(request):
    return render(
        request,
        "alarmes/regra_list.html",
        {"regras": selectors.regra_list(conta=request.conta), "can_edit": _can_act(request)},
    )


def _regra_form(request, regra: RegraAlarme | None):
    form = RegraForm(request.POST or None, instance=regra, conta=request.conta)
    preview = None
    if request.method == "POST" and form.is_valid():
        data, exclusoes = form.service_kwargs()
        try:
            if "previa" in request.POST:
                draft = RegraAlarme(conta=request.conta, pk=regra.pk if regra else None)
                for k, v in data.items():
                    setattr(draft, k, v)
                services.regra_validate(draft, exclusoes)
                preview = regra_preview(regra=draft, exclusoes=exclusoes)
            elif regra is None:
                regra = services.regra_create(
                    conta=request.conta, usuario=request.user, exclusoes=exclusoes, **data
                )
                messages.success(request, _("Regra criada."))
                return redirect("alarmes:regra_list")
            else:
                services.regra_update(regra=regra, exclusoes=exclusoes, **data)
                messages.success(request, _("Regra salva."))
                return redirect("alarmes:regra_list")
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(
        request, "alarmes/regra_form.html", {"form": form, "regra": regra, "preview": preview}
    )


@require_http_methods(["GET", "POST"])
@conta_required(*EDIT_REGISTRY)
def regra_create(request):
    return _regra_form(request, None)


@require_http_methods(["GET", "POST"])
@conta_required(*EDIT_REGISTRY)
def regra_update(request, pk):
    return _regra_form(request, selectors.regra_get(conta=request.conta, pk=pk))


@require_POST
@conta_required(*EDIT_REGISTRY)
def regra_toggle(request, pk):
    regra = selectors.regra_get(conta=request.conta, pk=pk)
    services.regra_set_active(regra=regra, ativo=not regra.ativo)
    messages.success(
        request,
        (_("Regra “%(nome)s” ativada.") if regra.ativo else _("Regra “%(nome)s” desativada."))
        % {"nome": regra.nome},
    )
    return redirect("alarmes:regra_list")


@require_http_methods(["GET", "POST"])
@conta_required(*EDIT_REGISTRY)
def regra_delete(request, pk):
    regra = selectors.regra_get(conta=request.conta, pk=pk)
    if request.method == "POST":
        services.regra_delete(regra=regra, usuario=request.user)
        messages.success(request, _("Regra “%(nome)s” excluída.") % {"nome": regra.nome})
        return redirect("alarmes:regra_list")
    return render(request, "alarmes/regra_confirm_delete.html", {"regra": regra})
