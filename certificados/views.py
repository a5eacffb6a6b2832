from django.shortcuts import render

from contas.permissions import conta_required


@conta_required()
def index(request):
    return render(request, "placeholder.html", {"title": "certificados"})
