from .selectors import invites_of_user


def active_conta(request):
    return {
        "active_conta": getattr(request, "conta", None),
        "active_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
        "pending_invites": _pending_invites(request),
    }


def _pending_invites(request) -> int:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return invites_of_user(user=user).count()
