"""API token management, for account admins."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from contas.permissions import MANAGE_MEMBERS, conta_required

from .forms import ApiTokenForm
from .selectors import api_token_get, api_token_list
from .services import api_token_create, api_token_revoke


@never_cache
@require_http_methods(["GET", "POST"])
@conta_required(*MANAGE_MEMBERS)
def token_list(request):
    """Lists the account's tokens; POST creates one and shows its secret once."""
    created_raw = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, created_raw = api_token_create(
            conta=request.conta,
            nome=form.cleaned_data["nome"],
            criado_por=request.user,
            escopo=form.cleaned_data["escopo"] or "leitura",
            validade_dias=form.cleaned_data["validade_dias"],
        )
        form = ApiTokenForm()
    return render(
        request,
        "apitokens/token_list.html",
        {
            "form": form,
            "tokens": api_token_list(conta=request.conta),
            "created_raw": created_raw,
        },
    )


@require_POST
@conta_required(*MANAGE_MEMBERS)
def token_revoke(request, pk):
    token = api_token_get(conta=request.conta, pk=pk)
    api_token_revoke(token=token)
    messages.success(request, _("Token “%(nome)s” revogado.") % {"nome": token.nome})
    return redirect("apitokens:list")
