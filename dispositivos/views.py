from django.shortcuts import render

from contas.permissions import conta_required


@conta_required()
def gateway_list(request):
    return render(request, "placeholder.html", {"title": "gateways"})


@conta_required()
def dispositivo_list(request):
    return render(request, "placeholder.html", {"title": "dispositivos"})
