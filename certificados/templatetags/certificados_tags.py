"""`{% load certificados_tags %}` for pages owned by other apps (the gateway list)."""

from django import template

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


@register.inclusion_tag("certificados/partials/status_badge.html")
def certificate_status_badge(statuses, gateway_id):
    return {"status": statuses.get(gateway_id, "none")}
