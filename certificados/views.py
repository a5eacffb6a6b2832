"""Certificate pages. Every id goes through a selector that answers 404 for another
account's id; issuing, revoking and downloading need admin or operador."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contas.permissions import EDIT_REGISTRY, conta_required
from dispositivos.selectors import gateway_get

from . import selectors, services
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
    """The public part again (certificate, CA, README): a generated key is never kept."""
    cert = selectors.certificado_get(conta=request.conta, pk=pk)
    return _zip_response(certificado=cert)


@conta_required(*EDIT_REGISTRY)
@require_POST
def revoke(request, pk):
    cert = selectors.certificado_get(conta=request.conta, pk=pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.certificado_revoke(
                certificado=cert, reason=form.cleaned_data["reason"], revoked_by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Certificado revogado; a CRL do broker foi atualizada."))
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
                messages.warning(
                    request,
                    _(
                        "Certificado emitido. A chave privada foi entregue só no arquivo .zip "
                        "baixado e não fica guardada na plataforma."
                    ),
                )
            else:
                messages.success(request, _("Certificado emitido a partir do CSR."))
            return _zip_response(certificado=issued.certificado, key_pem=issued.key_pem)
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
