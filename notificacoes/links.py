"""The alarm page's link to its delivery log (registered in NotificacoesConfig.ready)."""

from django.urls import reverse

from contas.permissions import READ


def entregas_url(request, alarme) -> str | None:
    """The same roles as the delivery-log view (conta_required(): READ)."""
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in READ:
        return None
    return reverse("notificacoes:entregas_alarme", args=[alarme.pk])
