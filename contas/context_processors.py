def active_conta(request):
    return {
        "active_conta": getattr(request, "conta", None),
        "active_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
    }
