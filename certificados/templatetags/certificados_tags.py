"""`{% load certificados_tags %}` for pages owned by other apps (the gateway list)."""

from django import template

from certificados.models import Status
from certificados.selectors import certificate_status_for_gateways

register = template.Library()


@register.simple_tag(takes_context=True)
def certificate_statuses(context, gateways) -> dict:
    """{gateway_id: status} for the gateways on the page, in one query."""
    request = context.get("request")
    conta = getattr(request, "conta", None)
    if conta is None:
        return {}
    return certificate_status_for_gateways(conta=conta, gateway_ids=[g.pk for g in gateways])


BADGE_CLASS = {
    Status.VALID: "text-bg-success",
    Status.EXPIRING: "text-bg-warning",
    Status.EXPIRED: "text-bg-danger",
    Status.REVOKED: "text-bg-danger",
}


@register.inclusion_tag("certificados/partials/status_badge.html")
def cert_status_badge(status):
    """A certificate state (a Status value; anything else reads "sem certificado") as a
    badge: its label, coloured."""
    status = Status(status) if status in Status.values else Status.NONE
    return {"status": status, "css": BADGE_CLASS.get(status, "text-bg-secondary")}


@register.inclusion_tag("certificados/partials/status_badge.html")
def certificate_status_badge(statuses, gateway_id):
    return cert_status_badge(statuses.get(gateway_id, Status.NONE))
