"""Alarm pages (thin: selectors read, services write)."""

from django.http import HttpResponse

from contas.permissions import conta_required


@conta_required()
def alarme_list(request):
    return HttpResponse("")


@conta_required()
def alarme_detail(request, pk):
    return HttpResponse("")
