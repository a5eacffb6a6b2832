"""Role checks for views. A user without the role gets 403 in their own account;
objects of another account never get this far (they answer 404)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .models import Role
from .selectors import invites_of_user

EDIT_REGISTRY = (Role.ADMIN, Role.OPERADOR)
MANAGE_MEMBERS = (Role.ADMIN,)
READ = (Role.ADMIN, Role.OPERADOR, Role.LEITOR)


def conta_required(*roles):
    """Login, an active account, and (when given) one of `roles` in it."""
    allowed = roles or READ

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None and invites_of_user(user=request.user).exists():
                return redirect("contas:convites")  # invited, not yet a member anywhere
            if membership is None or membership.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
