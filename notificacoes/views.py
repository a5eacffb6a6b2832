"""Notification pages: targets (list, detail with its delivery log, create, edit, delete,
"enviar teste", new secret), the member's own preferences, account settings, and the
delivery log of an alarm. Every role reads; only admins manage targets and settings
(contas.permissions.MANAGE_MEMBERS); each member edits their own preferences."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alarmes.selectors import alarme_get
from contas.forms import apply_validation_error
from contas.permissions import MANAGE_MEMBERS, conta_required

from . import selectors, services
from .forms import ConfiguracaoForm, DestinoForm, PreferenciaForm
from .lembretes import configuracao
from .models import DestinoNotificacao, EstadoEnvio, ResultadoTentativa

# The states the delivery partials compare with, by name.
STATES = {"EstadoEnvio": EstadoEnvio, "ResultadoTentativa": ResultadoTentativa}


@conta_required()
def destino_list(request):
    return _destino_list_page(request)


def _destino_list_page(request, config_form: ConfiguracaoForm | None = None, status: int = 200):
    """The targets and the account's reminder settings (their form, or the one submitted
    with its errors)."""
    cfg = configuracao(request.conta.pk)
    return render(
        request,
        "notificacoes/destino_list.html",
        {
            "destinos": selectors.destino_list(conta=request.conta),
            "configuracao": cfg,
            "config_form": config_form or ConfiguracaoForm(instance=cfg),
            "can_manage": request.membership.can_manage_members,
        },
        status=status,
    )


@conta_required()
def destino_detail(request, pk):
    destino = selectors.destino_get(conta=request.conta, pk=pk)
    return render(
        request,
        "notificacoes/destino_detail.html",
        {
            "destino": destino,
            "envios": selectors.envios_do_destino(destino=destino),
            "can_manage": request.membership.can_manage_members,
            **STATES,
        },
    )


def _destino_form(request, destino: DestinoNotificacao | None):
    form = DestinoForm(request.POST or None, instance=destino, conta=request.conta)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        gateways, regras = data.pop("gateways"), data.pop("regras")
        try:
            if destino is None:
                destino = services.destino_create(
                    conta=request.conta, gateways=gateways, regras=regras, **data
                )
            else:
                destino = services.destino_update(
                    destino=destino, gateways=gateways, regras=regras, **data
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Destino salvo."))
            return redirect("notificacoes:destino_detail", pk=destino.pk)
    return render(request, "notificacoes/destino_form.html", {"form": form, "destino": destino})


@conta_required(*MANAGE_MEMBERS)
def destino_create(request):
    return _destino_form(request, None)


@conta_required(*MANAGE_MEMBERS)
def destino_edit(request, pk):
    return _destino_form(request, selectors.destino_get(conta=request.conta, pk=pk))


@conta_required(*MANAGE_MEMBERS)
def destino_delete(request, pk):
    destino = selectors.destino_get(conta=request.conta, pk=pk)
    if request.method == "POST":
        services.destino_delete(destino=destino)
        messages.success(request, _("Destino “%(nome)s” excluído.") % {"nome": destino.nome})
        return redirect("notificacoes:destino_list")
    return render(request, "notificacoes/destino_confirm_delete.html", {"destino": destino})


@require_POST
@conta_required(*MANAGE_MEMBERS)
def destino_testar(request, pk):
    destino = selectors.destino_get(conta=request.conta, pk=pk)
    envios = services.destino_enviar_teste(destino=destino)
    if envios:
        messages.success(
            request,
            _("Mensagem de teste na fila para %(para)s. Acompanhe o resultado abaixo.")
            % {"para": ", ".join(e.endereco for e in envios)},
        )
    else:
        messages.warning(request, _("Este destino não tem nenhum canal ativo."))
    return redirect("notificacoes:destino_detail", pk=destino.pk)


@require_POST
@conta_required(*MANAGE_MEMBERS)
def destino_novo_segredo(request, pk):
    destino = selectors.destino_get(conta=request.conta, pk=pk)
    services.destino_novo_segredo(destino=destino)
    messages.success(request, _("Novo segredo gerado: atualize o receptor do webhook."))
    return redirect("notificacoes:destino_detail", pk=destino.pk)


@require_POST
@conta_required(*MANAGE_MEMBERS)
def configuracao_edit(request):
    form = ConfiguracaoForm(request.POST, instance=configuracao(request.conta.pk))
    if form.is_valid():
        try:
            services.configuracao_update(conta=request.conta, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Lembretes e escalonamento salvos."))
            return redirect("notificacoes:destino_list")
    return _destino_list_page(request, config_form=form, status=400)


@conta_required()
def preferencias(request):
    pref = selectors.preferencia_get(conta=request.conta, user=request.user)
    form = PreferenciaForm(request.POST or None, instance=pref)
    if request.method == "POST" and form.is_valid():
        try:
            services.preferencia_update(conta=request.conta, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Preferências salvas."))
            return redirect("notificacoes:preferencias")
    return render(request, "notificacoes/preferencias.html", {"form": form})


@conta_required()
def entregas_alarme(request, alarme_id):
    alarme = alarme_get(conta=request.conta, pk=alarme_id)
    return render(
        request,
        "notificacoes/entregas_alarme.html",
        {
            "alarme": alarme,
            "notificacoes": selectors.entregas_do_alarme(alarme=alarme),
            **STATES,
        },
    )
