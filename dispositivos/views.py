"""Registry pages: gateways and devices (list, detail, create, edit, delete).

Thin views: reads through selectors (404 for another account's id), writes through
services (their ValidationErrors go onto the form fields). Every role reads; admin and
operador write (contas.permissions.EDIT_REGISTRY), others get 403.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from contas.forms import apply_validation_error
from contas.permissions import EDIT_REGISTRY, conta_required

from . import selectors, services
from .forms import DispositivoFilterForm, DispositivoForm, GatewayFilterForm, GatewayForm
from .panels import dispositivo_panels, gateway_panels

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _can_edit(request) -> bool:
    return request.membership is not None and request.membership.can_edit_registry


# Gateways -------------------------------------------------------------------------------


@conta_required()
def gateway_list(request):
    filter_form = GatewayFilterForm(request.GET)
    gateways = selectors.gateway_list(conta=request.conta, **filter_form.selector_kwargs())
    return render(
        request,
        "dispositivos/gateway_list.html",
        {
            "filter_form": filter_form,
            "page_obj": _page(request, gateways),
            "can_edit": _can_edit(request),
        },
    )


@conta_required()
def gateway_detail(request, pk):
    gateway = selectors.gateway_get(conta=request.conta, pk=pk)
    dispositivos = list(selectors.dispositivo_list_for_gateway(gateway=gateway))
    return render(
        request,
        "dispositivos/gateway_detail.html",
        {
            "gateway": gateway,
            "dispositivos": dispositivos,
            "slots_free": max(0, gateway.qte_max_dispositivos - len(dispositivos)),
            "can_edit": _can_edit(request),
            "gateway_panels": gateway_panels(request=request, gateway=gateway),
        },
    )


@conta_required(*EDIT_REGISTRY)
def gateway_create(request):
    form = GatewayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            gateway = services.gateway_create(conta=request.conta, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Gateway salvo."))
            return redirect("dispositivos:gateway_detail", pk=gateway.pk)
    return render(request, "dispositivos/gateway_form.html", {"form": form, "gateway": None})


@conta_required(*EDIT_REGISTRY)
def gateway_update(request, pk):
    gateway = selectors.gateway_get(conta=request.conta, pk=pk)
    form = GatewayForm(request.POST or None, instance=gateway)
    if request.method == "POST" and form.is_valid():
        try:
            services.gateway_update(gateway=gateway, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            gateway = selectors.gateway_get(conta=request.conta, pk=pk)  # unchanged, for the title
        else:
            messages.success(request, _("Gateway salvo."))
            return redirect("dispositivos:gateway_detail", pk=gateway.pk)
    return render(request, "dispositivos/gateway_form.html", {"form": form, "gateway": gateway})


@conta_required(*EDIT_REGISTRY)
def gateway_delete(request, pk):
    gateway = selectors.gateway_get(conta=request.conta, pk=pk)
    if request.method == "POST":
        services.gateway_delete(gateway=gateway)
        messages.success(request, _("Gateway %(codigo)s excluído.") % {"codigo": gateway.codigo})
        return redirect("dispositivos:gateway_list")
    return render(
        request,
        "dispositivos/gateway_confirm_delete.html",
        {
            "gateway": gateway,
            "num_dispositivos": selectors.dispositivo_list_for_gateway(gateway=gateway).count(),
        },
    )


# Dispositivos ---------------------------------------------------------------------------


@conta_required()
def dispositivo_list(request):
    filter_form = DispositivoFilterForm(request.GET, conta=request.conta)
    dispositivos = selectors.dispositivo_list(conta=request.conta, **filter_form.selector_kwargs())
    return render(
        request,
        "dispositivos/dispositivo_list.html",
        {
            "filter_form": filter_form,
            "page_obj": _page(request, dispositivos),
            "can_edit": _can_edit(request),
        },
    )


@conta_required()
def dispositivo_detail(request, pk):
    dispositivo = selectors.dispositivo_get(conta=request.conta, pk=pk)
    return render(
        request,
        "dispositivos/dispositivo_detail.html",
        {
            "dispositivo": dispositivo,
            "gateway": dispositivo.gateway,
            "can_edit": _can_edit(request),
            "panels": dispositivo_panels(request=request, dispositivo=dispositivo),
        },
    )


@conta_required(*EDIT_REGISTRY)
def dispositivo_create(request):
    initial = {}
    if request.GET.get("gateway"):
        # Another account's gateway id answers 404 like every other id.
        initial["gateway"] = selectors.gateway_get(conta=request.conta, pk=request.GET["gateway"])
    form = DispositivoForm(request.POST or None, initial=initial, conta=request.conta)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        gateway = data.pop("gateway")
        try:
            dispositivo = services.dispositivo_create(gateway=gateway, **data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Dispositivo salvo."))
            return redirect("dispositivos:dispositivo_detail", pk=dispositivo.pk)
    return render(
        request, "dispositivos/dispositivo_form.html", {"form": form, "dispositivo": None}
    )


@conta_required(*EDIT_REGISTRY)
def dispositivo_update(request, pk):
    dispositivo = selectors.dispositivo_get(conta=request.conta, pk=pk)
    form = DispositivoForm(request.POST or None, instance=dispositivo, conta=request.conta)
    if request.method == "POST" and form.is_valid():
        try:
            services.dispositivo_update(dispositivo=dispositivo, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            dispositivo = selectors.dispositivo_get(conta=request.conta, pk=pk)
        else:
            messages.success(request, _("Dispositivo salvo."))
            return redirect("dispositivos:dispositivo_detail", pk=dispositivo.pk)
    return render(
        request, "dispositivos/dispositivo_form.html", {"form": form, "dispositivo": dispositivo}
    )


@conta_required(*EDIT_REGISTRY)
def dispositivo_delete(request, pk):
    dispositivo = selectors.dispositivo_get(conta=request.conta, pk=pk)
    if request.method == "POST":
        gateway_pk = dispositivo.gateway_id
        services.dispositivo_delete(dispositivo=dispositivo)
        messages.success(
            request, _("Dispositivo %(codigo)s excluído.") % {"codigo": dispositivo.codigo}
        )
        if request.POST.get("next") == "gateway":
            return redirect("dispositivos:gateway_detail", pk=gateway_pk)
        return redirect("dispositivos:dispositivo_list")
    return render(
        request, "dispositivos/dispositivo_confirm_delete.html", {"dispositivo": dispositivo}
    )
