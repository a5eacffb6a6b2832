"""Unit registry pages, meter classification, bulk import and the resident's own page.

Thin views: reads through selectors (404 for another account's id), writes through
services. Managers (admin, operador) edit; leitor reads; a morador only reaches `minha`.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contas.forms import apply_validation_error
from contas.models import Role
from contas.permissions import EDIT_REGISTRY, conta_required
from dispositivos.selectors import dispositivo_get

from . import selectors, services
from .forms import ImportForm, MedicaoForm, MoradorLinkForm, UnidadeForm
from .importacao import MAX_BYTES, unidades_import
from .models import MoradorUnidade


@conta_required()
def unidade_list(request):
    q = request.GET.get("q", "")
    unidades = selectors.unidade_list(conta=request.conta, search=q)
    page = Paginator(unidades, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "unidades/unidade_list.html",
        {"page_obj": page, "q": q, "can_edit": request.membership.can_edit_registry},
    )


@conta_required()
def unidade_detail(request, pk):
    unidade = selectors.unidade_get(conta=request.conta, pk=pk)
    return render(
        request,
        "unidades/unidade_detail.html",
        {
            "unidade": unidade,
            "dispositivos": selectors.dispositivos_of_unidade(unidade=unidade),
            "moradores": selectors.moradores_of_unidade(unidade=unidade),
            "link_form": MoradorLinkForm(
                queryset=selectors.moradores_sem_unidade(conta=request.conta)
            ),
            "can_edit": request.membership.can_edit_registry,
            "can_manage_members": request.membership.can_manage_members,
        },
    )


@conta_required(*EDIT_REGISTRY)
def unidade_create(request):
    return _unidade_form(request, None)


@conta_required(*EDIT_REGISTRY)
def unidade_update(request, pk):
    return _unidade_form(request, selectors.unidade_get(conta=request.conta, pk=pk))


def _unidade_form(request, unidade):
    form = UnidadeForm(request.POST or None, instance=unidade)
    if request.method == "POST" and form.is_valid():
        try:
            if unidade is None:
                unidade = services.unidade_create(conta=request.conta, **form.cleaned_data)
            else:
                services.unidade_update(unidade=unidade, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Unidade salva."))
            return redirect("unidades:unidade_detail", pk=unidade.pk)
    return render(request, "unidades/unidade_form.html", {"form": form, "unidade": unidade})


@conta_required(*EDIT_REGISTRY)
def unidade_delete(request, pk):
    unidade = selectors.unidade_get(conta=request.conta, pk=pk)
    if request.method == "POST":
        try:
            services.unidade_delete(unidade=unidade)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("unidades:unidade_detail", pk=unidade.pk)
        messages.success(request, _("Unidade %(u)s excluída.") % {"u": unidade.rotulo})
        return redirect("unidades:unidade_list")
    return render(request, "unidades/unidade_confirm_delete.html", {"unidade": unidade})


@conta_required(*EDIT_REGISTRY)
def unidade_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        arquivo = form.cleaned_data["arquivo"]
        data = arquivo.read(MAX_BYTES + 1)  # unidades_import refuses more than MAX_BYTES
        result = unidades_import(conta=request.conta, filename=arquivo.name, data=data)
        if not result.errors:
            messages.success(
                request,
                _("Importação concluída: %(c)d unidades criadas, %(u)d atualizadas.")
                % {"c": result.created, "u": result.updated},
            )
            return redirect("unidades:unidade_list")
    return render(request, "unidades/unidade_import.html", {"form": form, "result": result})


@conta_required()
def medicao_list(request):
    # 25 a page: each row holds a select of every unit.
    page = Paginator(selectors.dispositivos_with_medicao(conta=request.conta), 25).get_page(
        request.GET.get("page")
    )
    rows = []
    for d in page:  # only this page's devices are read, each with its classification
        m = getattr(d, "medicao", None)
        rows.append((d, m, m.papel if m else "", m.unidade_id if m else None))
    return render(
        request,
        "unidades/medicao_list.html",
        {
            "rows": rows,
            "page_obj": page,
            "can_edit": request.membership.can_edit_registry,
            "papeis": MedicaoForm.base_fields["papel"].choices,
            "unidades": list(selectors.unidade_list(conta=request.conta)),
        },
    )


@require_POST
@conta_required(*EDIT_REGISTRY)
def medicao_set(request, dispositivo_pk):
    dispositivo = dispositivo_get(conta=request.conta, pk=dispositivo_pk)
    form = MedicaoForm(request.POST, conta=request.conta, prefix=f"d{dispositivo.pk}")
    if form.is_valid():
        try:
            services.medicao_set(
                dispositivo=dispositivo,
                papel=form.cleaned_data["papel"],
                unidade=form.cleaned_data["unidade"],
            )
        except ValidationError as exc:
            messages.error(request, f"{dispositivo.codigo}: " + " ".join(exc.messages))
        else:
            messages.success(request, _("Medidor %(c)s classificado.") % {"c": dispositivo.codigo})
    else:
        messages.error(request, _("Escolha válida necessária."))
    page = request.POST.get("page", "")
    url = reverse("unidades:medicao_list")
    return redirect(f"{url}?page={page}" if page.isdigit() else url)


@require_POST
@conta_required(Role.ADMIN)
def morador_link(request, pk):
    unidade = selectors.unidade_get(conta=request.conta, pk=pk)
    form = MoradorLinkForm(
        request.POST, queryset=selectors.moradores_sem_unidade(conta=request.conta)
    )
    if form.is_valid():
        services.morador_link(membership=form.cleaned_data["membership"], unidade=unidade)
        messages.success(request, _("Morador vinculado."))
    else:
        messages.error(request, _("Escolha um membro com o papel Morador."))
    return redirect("unidades:unidade_detail", pk=unidade.pk)


@require_POST
@conta_required(Role.ADMIN)
def morador_unlink(request, pk, link_pk):
    unidade = selectors.unidade_get(conta=request.conta, pk=pk)
    link = MoradorUnidade.objects.filter(conta=request.conta, unidade=unidade, pk=link_pk).first()
    if link is None:
        raise Http404
    services.morador_unlink(link=link)
    messages.success(request, _("Morador desvinculado."))
    return redirect("unidades:unidade_detail", pk=unidade.pk)
