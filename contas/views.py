from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .middleware import SESSION_KEY
from .permissions import MANAGE_MEMBERS, conta_required
from .selectors import membership_list


@require_POST
@login_required
def conta_switch(request):
    wanted = request.POST.get("conta", "")
    if any(str(m.conta_id) == wanted for m in request.memberships):
        request.session[SESSION_KEY] = int(wanted)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@conta_required(*MANAGE_MEMBERS)
def member_list(request):
    return render(
        request,
        "placeholder.html",
        {"title": "membros", "members": membership_list(conta=request.conta)},
    )
