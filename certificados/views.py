"""Certificate pages. Every id goes through a selector that answers 404 for another
account's id; issuing, revoking and downloading need admin or operador."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from contas.permissions import EDIT_REGISTRY, conta_required
from dispositivos.selectors import gateway_get

from . import selectors, services
from .broker import gateway_endpoint
from .forms import IssueForm, RevokeForm
from .models import RevocationReason


def _zip_response(*, certificado, key_pem=None) -> HttpResponse:
    data = services.bundle_zip(certificado=certificado, key_pem=key_pem)
    name = certificado.common_name.replace(":", "")
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="tds-{name}-{certificado.serial[:8]}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response


@conta_required()
def index(request):
    page = Paginator(selectors.certificado_list(conta=request.conta), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "certificados/certificado_list.html",
        {"page_obj": page, "can_edit": request.membership.can_edit_registry},
    )


@conta_required()
def detail(request, pk):
    cert = selectors.certificado_get(conta=request.conta, pk=pk)
    return render(
        request,
        "certificados/certificado_detail.html",
        {
            "certificado": cert,
            "can_edit": request.membership.can_edit_registry,
            "revoke_form": RevokeForm(),
        },
    )


@conta_required(*EDIT_REGISTRY)
def download(request, pk):
    """Certificate, CA and README; the key generated on issue too, on the issuing user's
    first download within TDS_CERT_KEY_HOLD_SECONDS (it is never written to the database or to disk)."""
    cert = selectors.certificado_get(conta=request.conta, pk=pk)
    key_pem = services.issued_key_take(certificado=cert, user=request.user)
    return _zip_response(certificado=cert, key_pem=key_pem)


@conta_required(*EDIT_REGISTRY)
def issued(request, pk):
    """What was just issued, where the gateway connects, and the download."""
    cert = selectors.certificado_get(conta=request.conta, pk=pk)
    return render(
        request,
        "certificados/certificado_issued.html",
        {
            "certificado": cert,
            "endpoint": gateway_endpoint(),
            "key_held": services.issued_key_is_held(certificado=cert, user=request.user),
            "hold_minutes": max(1, settings.TDS_CERT_KEY_HOLD_SECONDS // 60),
            "basename": services.bundle_basename(cert),
        },
    )


@conta_required(*EDIT_REGISTRY)
@require_http_methods(["GET", "POST"])
def revoke(request, pk):
    """GET: asks for confirmation (revocation is final); POST: revokes."""
    cert = selectors.certificado_get(conta=request.conta, pk=pk)
    if request.method == "GET":
        form = RevokeForm(request.GET)
        if not form.is_valid():
            messages.error(request, _("Escolha um motivo de revogação válido."))
            return redirect("certificados:detail", pk=cert.pk)
        reason = form.cleaned_data["reason"]
        return render(
            request,
            "confirm_action.html",
            {
                "titulo": _("Revogar certificado"),
                "pergunta": _(
                    "Revogar o certificado %(cn)s (série %(serial)s) pelo motivo “%(motivo)s”?"
                )
                % {
                    "cn": cert.common_name,
                    "serial": cert.serial,
                    "motivo": RevocationReason(reason).label,
                },
                "detalhe": _(
                    "O gateway que usa este certificado deixa de se conectar ao broker assim que"
                    " o broker recarregar a CRL."
                ),
                "action": request.path,
                "campos": [("reason", reason)],
                "botao": _("Revogar definitivamente"),
                "cancelar": reverse("certificados:detail", args=[cert.pk]),
            },
        )
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            revoked = services.certificado_revoke(
                certificado=cert, reason=form.cleaned_data["reason"], revoked_by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            _say_broker_reload(request, getattr(revoked, "broker_reload", "none"))
            if form.cleaned_data["reason"] == RevocationReason.KEY_COMPROMISE:
                messages.warning(
                    request,
                    _(
                        "Chave comprometida: o gateway foi desativado e sua conexão com o "
                        "broker foi derrubada. Emita um novo certificado e reative-o."
                    ),
                )
    else:
        messages.error(request, _("Escolha um motivo de revogação válido."))
    return redirect("certificados:detail", pk=cert.pk)


def _say_broker_reload(request, outcome: str) -> None:
    """What revocation did, as it is: the broker refuses the certificate only once it has
    reloaded the new CRL; a broker without TLS (the development one of `make run`) checks no
    certificate at all, so reloading it would change nothing."""
    endpoint = gateway_endpoint()
    if not endpoint.tls:
        messages.warning(
            request,
            _(
                "Certificado revogado e CRL atualizada. O broker em uso (mqtt://%(address)s,"
                " sem TLS, como o de desenvolvimento do make run) não verifica certificados:"
                " aceita qualquer cliente, com ou sem certificado, então a revogação não muda"
                " nada nele e não há o que recarregar. Ela vale num broker com mTLS (python"
                " manage.py mosquitto_config)."
            )
            % {"address": endpoint.address},
        )
        return
    if outcome in ("command", "sighup"):
        messages.success(
            request,
            _(
                "Certificado revogado: a CRL foi atualizada e o broker recarregado; ele já recusa este certificado."
            ),
        )
        return
    if outcome == "failed":
        problem = _("o comando de recarga do broker (TDS_MOSQUITTO_RELOAD_CMD) falhou")
    else:
        problem = _("nenhuma recarga do broker está configurada")
    messages.warning(
        request,
        _(
            "Certificado revogado e CRL atualizada, mas %(problem)s: o broker continua aceitando"
            " este certificado até ser recarregado. Recarregue o Mosquitto (por exemplo"
            ' "systemctl reload mosquitto" ou "kill -HUP" no processo do broker) ou configure'
            " TDS_MOSQUITTO_RELOAD_CMD ou TDS_MOSQUITTO_PID_FILE."
        )
        % {"problem": problem},
    )


@conta_required(*EDIT_REGISTRY)
def issue(request, gateway_pk):
    gateway = gateway_get(conta=request.conta, pk=gateway_pk)
    posted = request.method == "POST"
    form = IssueForm(request.POST, request.FILES) if posted else IssueForm()
    if posted and form.is_valid():
        try:
            issued = services.certificado_issue(
                gateway=gateway, issued_by=request.user, csr_pem=form.cleaned_data["csr_pem"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = field if field == "csr" else None
                if target == "csr" and request.FILES.get("csr_file"):
                    target = "csr_file"
                for error in errors:
                    form.add_error(target, error)
        else:
            if issued.key_pem is not None:
                services.issued_key_hold(
                    certificado=issued.certificado, user=request.user, key_pem=issued.key_pem
                )
            return redirect("certificados:issued", pk=issued.certificado.pk)
    return render(
        request, "certificados/certificado_issue.html", {"form": form, "gateway": gateway}
    )


def gateway_panel_context(request, gateway) -> dict:
    """Context of the panel on the gateway detail page (runs in the request's scope)."""
    certs = list(selectors.certificado_list(conta=request.conta, gateway_id=gateway.pk)[:10])
    status = selectors.certificate_status_for_gateways(
        conta=request.conta, gateway_ids=[gateway.pk]
    )[gateway.pk]
    return {"certificados": certs, "status": status}
