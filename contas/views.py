"""Account pages: switching the active account and, for admins, managing members."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .forms import ContaPricesForm, MemberAddForm, MemberRoleForm, apply_validation_error
from .middleware import SESSION_KEY
from .models import Role
from .permissions import MANAGE_MEMBERS, READ, conta_required
from .selectors import invite_get, invites_of_user, membership_get, membership_list


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
        "contas/member_list.html",
        {"members": membership_list(conta=request.conta)},
    )


@conta_required(*MANAGE_MEMBERS)
def member_add(request):
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.member_add(
                conta=request.conta,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            # The same answer whether the e-mail was registered or not.
            messages.success(
                request, _("Convite enviado para %(email)s.") % {"email": membership.user.email}
            )
            return redirect("contas:member_list")
    return render(request, "contas/member_add.html", {"form": form})


@conta_required(*MANAGE_MEMBERS)
def member_update(request, pk):
    membership = membership_get(conta=request.conta, pk=pk)
    form = MemberRoleForm(request.POST or None, initial={"role": membership.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.member_change_role(membership=membership, role=form.cleaned_data["role"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(
                request, _("Papel de %(email)s alterado.") % {"email": membership.user.email}
            )
            if membership.user_id == request.user.pk and form.cleaned_data["role"] != Role.ADMIN:
                return redirect("home")  # no longer allowed on the member pages
            return redirect("contas:member_list")
    return render(request, "contas/member_form.html", {"form": form, "membership": membership})


@conta_required(*MANAGE_MEMBERS)
def member_remove(request, pk):
    membership = membership_get(conta=request.conta, pk=pk)
    error = None
    if request.method == "POST":
        try:
            services.member_remove(membership=membership)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, _("%(email)s removido da conta.") % {"email": membership.user.email}
            )
            if membership.user_id == request.user.pk:
                return redirect("home")
            return redirect("contas:member_list")
    return render(
        request,
        "contas/member_confirm_remove.html",
        {"membership": membership, "error": error},
        status=400 if error else 200,
    )


@require_POST
@conta_required(*MANAGE_MEMBERS)
def member_resend_invite(request, pk):
    membership = membership_get(conta=request.conta, pk=pk)
    try:
        services.member_resend_invite(
            membership=membership,
            invited_by=request.user,
            base_url=request.build_absolute_uri("/"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Convite reenviado para %(email)s.") % {"email": membership.user.email}
        )
    return redirect("contas:member_list")


@conta_required(*READ)
def conta_prices(request):
    """The active account's prices per unit: admins edit them, operador and leitor read."""
    can_edit = request.membership.can_manage_members  # as the dashboard's price hint
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    form = ContaPricesForm(request.POST or None, instance=request.conta, read_only=not can_edit)
    if request.method == "POST" and form.is_valid():
        try:
            services.conta_prices_update(conta=request.conta, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Preços salvos."))
            return redirect("contas:prices")
    return render(request, "contas/prices.html", {"form": form, "can_edit": can_edit})


@login_required
def convites(request):
    """The logged-in user's pending invitations, to accept or decline."""
    return render(request, "contas/convites.html", {"convites": invites_of_user(user=request.user)})


@require_POST
@login_required
def convite_responder(request, pk):
    membership = invite_get(user=request.user, pk=pk)
    nome = membership.conta.nome
    if request.POST.get("resposta") == "aceitar":
        services.invite_accept(membership=membership)
        request.session[SESSION_KEY] = membership.conta_id
        messages.success(request, _("Você agora é membro de %(conta)s.") % {"conta": nome})
        return redirect("home")
    services.invite_decline(membership=membership)
    messages.info(request, _("Convite de %(conta)s recusado.") % {"conta": nome})
    return redirect("contas:convites")
