"""Billing pages: periods, bills, closing, charges, statements (PDF, Excel, zip job), the
water balance, and the resident's own unit page.

Managers (admin, operador) edit; leitor reads; a morador reaches only `minha_unidade` and
their own statements. Ids of another account (or, for a morador, of another unit) answer 404.
"""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contas.forms import apply_validation_error
from contas.models import Role
from contas.permissions import EDIT_REGISTRY, conta_required
from unidades.selectors import morador_unidade, unidade_get

from . import jobs, selectors, services
from .calendario import add_months, periodo_datas, referencia_de
from .demonstrativos import demonstrativos_do_periodo, pdf_demonstrativo, xlsx_periodo
from .forms import AbrirPeriodoForm, ConfigForm, CorrecaoForm, FaturaForm
from .models import Situacao, StatusGeracao, StatusPeriodo, Utilidade

# The states the pages compare with, by name (templates never spell a stored value).
STATES = {"StatusPeriodo": StatusPeriodo, "Situacao": Situacao, "StatusGeracao": StatusGeracao}


@conta_required()
def index(request):
    config = selectors.config_get(conta=request.conta)
    config_form = ConfigForm(instance=config)
    abrir_form = AbrirPeriodoForm(
        initial={"referencia": add_months(
            referencia_de(dia=timezone.localdate(), dia_fechamento=config.dia_fechamento), -1
        ).strftime("%Y-%m")}
    )  # fmt: skip
    if request.method == "POST" and request.membership.can_edit_registry:
        if "config" in request.POST:
            config_form = ConfigForm(request.POST, instance=config)
            if config_form.is_valid():
                try:
                    services.config_update(conta=request.conta, **config_form.cleaned_data)
                except ValidationError as exc:
                    apply_validation_error(config_form, exc)
                else:
                    messages.success(request, _("Configuração salva."))
                    return redirect("faturamento:index")
        else:
            abrir_form = AbrirPeriodoForm(request.POST)
            if abrir_form.is_valid():
                try:
                    periodo = services.periodo_abrir(
                        conta=request.conta, referencia=abrir_form.cleaned_data["referencia"]
                    )
                except ValidationError as exc:
                    apply_validation_error(abrir_form, exc)
                else:
                    return redirect("faturamento:periodo_detail", pk=periodo.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "faturamento/index.html",
        {
            "periodos": selectors.periodo_list(conta=request.conta)[:36],
            "config_form": config_form,
            "abrir_form": abrir_form,
            "can_edit": request.membership.can_edit_registry,
            **STATES,
        },
    )


@conta_required()
def periodo_detail(request, pk):
    periodo = selectors.periodo_get(conta=request.conta, pk=pk)
    faturas = selectors.faturas_of_periodo(periodo=periodo)
    ctx = {
        "periodo": periodo,
        "faturas": faturas,
        "can_edit": request.membership.can_edit_registry,
        **STATES,
    }
    if periodo.is_aberto:
        ap = selectors.apuracao(conta=request.conta, inicio=periodo.inicio, fim=periodo.fim)
        ctx["apuracao"] = [
            (Utilidade(t).label, selectors.unidade_medida(t), ap.principal.get(t),
             ap.area_comum.get(t), ap.por_tipo[t], len(ap.faltando(t)))
            for t in ap.tipos
        ]  # fmt: skip
        ctx["sem_unidades"] = not ap.unidades
        ctx["pode_fechar"] = timezone.localdate() >= periodo.fim
        ctx["tipos_sem_fatura"] = [t for t in Utilidade if t not in {f.tipo for f in faturas}]
    else:
        cobrancas = list(selectors.cobrancas_of_periodo(periodo=periodo))
        medida = {f.tipo: f.unidade_medida for f in faturas}
        linhas = {}
        for c in cobrancas:
            row = linhas.setdefault(
                c.unidade_id, {"unidade": c.unidade, "por_tipo": {}, "total": 0}
            )
            c.unidade_medida = medida.get(c.tipo, "")
            row["por_tipo"][c.tipo] = c
            row["total"] += c.valor
        ctx["tipos"] = [f.tipo for f in faturas]
        ctx["linhas"] = list(linhas.values())
        ctx["geracao"] = selectors.geracao_ultima(periodo=periodo)
        ctx["correcao_form"] = CorrecaoForm()
        ctx["versoes"] = selectors.periodo_list(conta=request.conta).filter(
            referencia=periodo.referencia
        )
    return render(request, "faturamento/periodo_detail.html", ctx)


@conta_required(*EDIT_REGISTRY)
def fatura_form(request, pk, fatura_pk=None):
    periodo = selectors.periodo_get(conta=request.conta, pk=pk)
    fatura = selectors.fatura_get(periodo=periodo, pk=fatura_pk) if fatura_pk else None
    if not periodo.is_aberto:
        messages.error(request, _("O período está fechado; abra uma correção para mudar a conta."))
        return redirect("faturamento:periodo_detail", pk=periodo.pk)
    initial = {"tipo": request.GET.get("tipo")} if fatura is None else {}
    form = FaturaForm(request.POST or None, instance=fatura, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        tipo = fatura.tipo if fatura else data.pop("tipo")
        data.pop("tipo", None)
        data["faixas"] = data.pop("faixas_texto")
        try:
            services.fatura_salvar(periodo=periodo, tipo=tipo, **data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "faixas" in exc.error_dict:
                exc = ValidationError(
                    {("faixas_texto" if k == "faixas" else k): v for k, v in exc.error_dict.items()}
                )
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Conta da concessionária salva."))
            return redirect("faturamento:periodo_detail", pk=periodo.pk)
    return render(
        request,
        "faturamento/fatura_form.html",
        {"form": form, "periodo": periodo, "fatura": fatura},
    )


@require_POST
@conta_required(*EDIT_REGISTRY)
def fatura_excluir(request, pk, fatura_pk):
    periodo = selectors.periodo_get(conta=request.conta, pk=pk)
    fatura = selectors.fatura_get(periodo=periodo, pk=fatura_pk)
    try:
        services.fatura_excluir(fatura=fatura)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("faturamento:periodo_detail", pk=periodo.pk)


@require_POST
@conta_required(*EDIT_REGISTRY)
def periodo_fechar(request, pk):
    periodo = selectors.periodo_get(conta=request.conta, pk=pk)
    try:
        services.periodo_fechar(periodo=periodo, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Período fechado: rateio calculado."))
    return redirect("faturamento:periodo_detail", pk=periodo.pk)


@require_POST
@conta_required(*EDIT_REGISTRY)
def periodo_corrigir(request, pk):
    periodo = selectors.periodo_get(conta=request.conta, pk=pk)
    form = CorrecaoForm(request.POST)
    if form.is_valid():
        try:
            nova = services.periodo_corrigir(periodo=periodo, motivo=form.cleaned_data["motivo"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Correção aberta (versão %(v)d).") % {"v": nova.versao})
            return redirect("faturamento:periodo_detail", pk=nova.pk)
    else:
        messages.error(request, _("Informe o motivo da correção."))
    return redirect("faturamento:periodo_detail", pk=periodo.pk)


def _closed(request, pk):
    periodo = selectors.periodo_get(conta=request.conta, pk=pk)
    if periodo.is_aberto:
        raise Http404
    return periodo


def _pdf_response(periodo, unidade) -> HttpResponse:
    found = demonstrativos_do_periodo(periodo=periodo, unidade=unidade)
    if not found:
        raise Http404
    response = HttpResponse(pdf_demonstrativo(found[0]), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="demonstrativo-{periodo.referencia:%Y-%m}-{jobs.pdf_name(found[0])}"'
    )
    return response


@conta_required()
def demonstrativo_pdf(request, pk, unidade_pk):
    periodo = _closed(request, pk)
    return _pdf_response(periodo, unidade_get(conta=request.conta, pk=unidade_pk))


@conta_required()
def planilha_xlsx(request, pk):
    periodo = _closed(request, pk)
    response = HttpResponse(
        xlsx_periodo(periodo=periodo),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="rateio-{periodo.referencia:%Y-%m}-v{periodo.versao}.xlsx"'
    )
    return response


@require_POST
@conta_required(*EDIT_REGISTRY)
def geracao_iniciar(request, pk):
    periodo = _closed(request, pk)
    try:
        jobs.geracao_iniciar(periodo=periodo, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("faturamento:periodo_detail", args=[periodo.pk]) + "#demonstrativos")


@conta_required()
def geracao_status(request, pk):
    geracao = selectors.geracao_get(conta=request.conta, pk=pk)
    return JsonResponse({
        "status": geracao.status, "total": geracao.total, "feitos": geracao.feitos,
        "percentual": geracao.percentual, "erro": geracao.erro,
        "download": reverse("faturamento:geracao_download", args=[geracao.pk])
        if geracao.status == StatusGeracao.PRONTO else None,
    })  # fmt: skip


@conta_required()
def geracao_download(request, pk):
    geracao = selectors.geracao_get(conta=request.conta, pk=pk)
    path = Path(geracao.arquivo) if geracao.arquivo else None
    root = Path(settings.TDS_DEMONSTRATIVOS_DIR).resolve()
    if (
        geracao.status != StatusGeracao.PRONTO
        or path is None
        or not path.is_file()
        or root not in path.resolve().parents
    ):
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=jobs.zip_name(geracao.periodo)
    )


@conta_required()
def balanco(request):
    tipo = request.GET.get("tipo", Utilidade.AGUA)
    if tipo not in Utilidade.values:
        tipo = Utilidade.AGUA
    try:
        dias = max(7, min(int(request.GET.get("dias", 31)), 92))
    except ValueError:
        dias = 31
    fim = timezone.localdate() + timedelta(days=1)
    inicio = fim - timedelta(days=dias)
    rows = selectors.balanco_diario(conta=request.conta, tipo=tipo, inicio=inicio, fim=fim)
    chart = {
        "labels": [r.dia.strftime("%d/%m") for r in rows],
        "principal": [None if r.principal is None else float(r.principal) for r in rows],
        "unidades": [float(r.unidades) for r in rows],
        "comum": [None if r.comum is None else float(r.comum) for r in rows],
        "rotulos": {
            "principal": _("Principal (%(u)s)") % {"u": selectors.unidade_medida(tipo)},
            "unidades": _("Σ unidades"),
            "comum": _("Comum"),
        },
    }
    return render(request, "faturamento/balanco.html", {
        "rows": rows, "chart": chart, "tipo": tipo, "dias": dias, "tipos": Utilidade.choices,
        "unidade_medida": selectors.unidade_medida(tipo),
        "limite": selectors.config_get(conta=request.conta).perda_limite_pct,
    })  # fmt: skip


# ---- the resident's pages ------------------------------------------------------------------


def _minha(request):
    unidade = morador_unidade(membership=request.membership)
    if unidade is None:
        raise PermissionDenied
    return unidade


@conta_required(Role.MORADOR)
def minha_unidade(request):
    unidade = _minha(request)
    config = selectors.config_get(conta=request.conta)
    atual = referencia_de(dia=timezone.localdate(), dia_fechamento=config.dia_fechamento)
    inicio, _fim = periodo_datas(referencia=atual, dia_fechamento=config.dia_fechamento)
    hist = selectors.historico_unidades(
        conta=request.conta, inicio=inicio, periodos=12, unidade=unidade
    )
    starts = [add_months(inicio, -k) for k in range(11, -1, -1)]
    series = {
        str(Utilidade(t).label): [float(hist.get((unidade.pk, t), {}).get(s, 0)) for s in starts]
        for t in Utilidade.values if (unidade.pk, t) in hist
    }  # fmt: skip
    atual_por_tipo = [
        (Utilidade(t).label, hist[(unidade.pk, t)].get(inicio, 0), selectors.unidade_medida(t))
        for t in Utilidade.values if (unidade.pk, t) in hist
    ]  # fmt: skip
    periodos = list(
        selectors.periodos_fechados(conta=request.conta)
        .filter(cobrancas__unidade=unidade)
        .distinct()[:24]
    )
    return render(request, "faturamento/minha_unidade.html", {
        "unidade": unidade, "periodos": periodos, "inicio": inicio, "atual": atual_por_tipo,
        "chart": {"labels": [s.strftime("%m/%y") for s in starts], "series": series},
    })  # fmt: skip


@conta_required(Role.MORADOR)
def minha_demonstrativo_pdf(request, pk):
    unidade = _minha(request)
    periodo = _closed(request, pk)
    return _pdf_response(periodo, unidade)
