from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render

from contas.permissions import conta_required

from . import selectors
from .models import Motivo

PAGE_SIZE = 50


@conta_required()
def rejeitadas(request):
    motivo = request.GET.get("motivo", "")
    if motivo not in Motivo.values:
        motivo = ""
    qs = selectors.rejeitada_list(conta=request.conta, motivo=motivo)
    counts = selectors.rejeitada_counts(conta=request.conta)
    return render(
        request,
        "ingestao/rejeitadas.html",
        {
            "page_obj": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "counts": counts,
            "total": sum(n for _, _, n in counts),
            "motivo": motivo,
            "only_counted": selectors.rejeitada_only_counted(conta=request.conta),
            "limit": settings.TDS_DEAD_LETTER_MAX_PER_HOUR,
        },
    )


@conta_required()
def rejeitada_detail(request, pk):
    mensagem = selectors.rejeitada_get(conta=request.conta, pk=pk)
    return render(request, "ingestao/rejeitada_detail.html", {"mensagem": mensagem})


def gateway_agent_panel_context(request, gateway) -> dict:
    return selectors.gateway_agent_status(gateway=gateway)
