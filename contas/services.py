"""Writes of the accounts area: members of an account (invite, accept, change role, remove),
and the account's prices per unit (the dashboard's cost).

Adding a member is always an invitation: a pending membership (no access) that the person
accepts after logging in, whether the e-mail was registered or not; the admin's answer
is the same in both cases, so the form cannot be used to learn who has an account.

Rule: an account always keeps at least one admin. The account row is locked while a
change that could remove an admin is checked, so two admins demoting each other at the
same moment cannot leave the account without one.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import Conta, ContaMembership, Role


def _lock_conta(conta: Conta) -> Conta:
    return Conta.objects.select_for_update().get(pk=conta.pk)


def _other_admins(membership: ContaMembership) -> int:
    return (
        ContaMembership.objects.filter(
            conta_id=membership.conta_id, role=Role.ADMIN, accepted_at__isnull=False
        )
        .exclude(pk=membership.pk)
        .count()
    )


def invite_link(*, user, base_url: str) -> str:
    """A one-time link where the invited user sets a password (Django's reset flow)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return base_url.rstrip("/") + path


def _send_invite(*, user, conta: Conta, invited_by, base_url: str) -> None:
    """A user with a password gets the link to the invitations page; one without (new,
    or never finished) gets the set-password link first."""
    has_password = user.has_usable_password()
    context = {
        "conta": conta,
        "invited_by": invited_by,
        "link": base_url.rstrip("/") + reverse("contas:convites")
        if has_password
        else invite_link(user=user, base_url=base_url),
        "convites_link": base_url.rstrip("/") + reverse("contas:convites"),
        "has_password": has_password,
        "user": user,
    }
    subject = render_to_string("contas/email/convite_assunto.txt", context).strip()
    body = render_to_string("contas/email/convite.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@transaction.atomic
def member_add(
    *, conta: Conta, email: str, role: str, invited_by=None, base_url: str
) -> ContaMembership:
    """Invites `email` to the account with `role`: a pending membership and an e-mail
    (after commit). An unknown e-mail gets a user without a usable password, whose
    e-mail link sets one. Either way the person accepts on the invitations page."""
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Papel inválido.")})
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None)
    elif ContaMembership.objects.filter(conta=conta, user=user).exists():
        # Says only what the member list already shows.
        raise ValidationError({"email": _("Este usuário já é membro da conta.")})
    membership = ContaMembership(conta=conta, user=user, role=role, accepted_at=None)
    membership.full_clean()
    membership.save()
    transaction.on_commit(
        lambda: _send_invite(user=user, conta=conta, invited_by=invited_by, base_url=base_url)
    )
    return membership


@transaction.atomic
def invite_accept(*, membership: ContaMembership) -> ContaMembership:
    membership = ContaMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.accepted_at is None:
        membership.accepted_at = timezone.now()
        membership.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def invite_decline(*, membership: ContaMembership) -> None:
    ContaMembership.objects.filter(pk=membership.pk, accepted_at__isnull=True).delete()


@transaction.atomic
def member_change_role(*, membership: ContaMembership, role: str) -> ContaMembership:
    if role not in Role.values:
        raise ValidationError({"role": _("Papel inválido.")})
    _lock_conta(membership.conta)
    membership = ContaMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admins(membership):
        raise ValidationError(
            {"role": _("A conta precisa de pelo menos um administrador; este é o último.")}
        )
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, membership: ContaMembership) -> None:
    _lock_conta(membership.conta)
    membership = ContaMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN and not _other_admins(membership):
        raise ValidationError(_("O último administrador da conta não pode ser removido."))
    membership.delete()


def member_resend_invite(*, membership: ContaMembership, invited_by=None, base_url: str) -> None:
    """Sends the invitation again to a member who has not accepted it (or, from before
    invitations needed accepting, has not set a password yet)."""
    user = membership.user
    if membership.accepted_at is not None and user.has_usable_password():
        raise ValidationError(_('Este membro já definiu a senha; use "Esqueceu a senha?".'))
    transaction.on_commit(
        lambda: _send_invite(
            user=user, conta=membership.conta, invited_by=invited_by, base_url=base_url
        )
    )


# The account fields an account admin sets on the prices page (the dashboard's cost).
PRICE_FIELDS = ("preco_agua", "preco_energia", "preco_gas")


@transaction.atomic
def conta_prices_update(
    *,
    conta: Conta,
    preco_agua: Decimal | None,
    preco_energia: Decimal | None,
    preco_gas: Decimal | None,
) -> Conta:
    """Sets the account's prices per unit (R$ per m³ of water and gas, per kWh of energy);
    None: the dashboard shows no cost for that utility. Only these fields are written."""
    conta = Conta.objects.select_for_update().get(pk=conta.pk)
    conta.preco_agua, conta.preco_energia, conta.preco_gas = preco_agua, preco_energia, preco_gas
    conta.full_clean()
    conta.save(update_fields=[*PRICE_FIELDS, "updated_at"])
    return conta
