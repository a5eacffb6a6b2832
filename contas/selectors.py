from django.contrib.auth import get_user_model
from django.http import Http404

from .models import Conta, ContaMembership


def memberships_of_user(*, user) -> list[ContaMembership]:
    """The user's accepted memberships in active accounts, by account name (a pending
    invitation gives no access)."""
    return list(
        ContaMembership.objects.filter(user=user, conta__is_active=True, accepted_at__isnull=False)
        .select_related("conta")
        .order_by("conta__nome", "conta_id")
    )


def membership_list(*, conta: Conta):
    return (
        ContaMembership.objects.filter(conta=conta).select_related("user").order_by("user__email")
    )


def membership_get(*, conta: Conta, pk) -> ContaMembership:
    """A membership of the account by id; another account's id is a 404, like a missing one."""
    try:
        return ContaMembership.objects.select_related("user").get(conta=conta, pk=pk)
    except (ContaMembership.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def user_get_by_email(*, email: str):
    return get_user_model().objects.filter(email__iexact=email.strip()).first()


def invites_of_user(*, user):
    """The user's pending invitations (memberships not yet accepted), in active accounts."""
    return (
        ContaMembership.objects.filter(user=user, conta__is_active=True, accepted_at__isnull=True)
        .select_related("conta")
        .order_by("created_at", "pk")
    )


def invite_get(*, user, pk) -> ContaMembership:
    """One of the user's own pending invitations; anything else is a 404."""
    try:
        return invites_of_user(user=user).get(pk=pk)
    except (ContaMembership.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
