"""Extension points of the gateway detail page.

Other apps (dashboard, certificates) add a panel to a gateway's page without editing
the registry: in their AppConfig.ready() they call

    from dispositivos.panels import register_gateway_panel
    register_gateway_panel(
        slot="certificates",                       # or "telemetry"
        template_name="certificados/partials/gateway_certificates.html",
        context=lambda request, gateway: {"certificados": ...},  # optional
    )

The template is included in the slot's block of dispositivos/gateway_detail.html with
`gateway`, `can_edit`, `request` and `panel_context` (the dict `context` returned).
`context` runs inside the request's account scope; it must read through selectors.
"""

from collections.abc import Callable
from dataclasses import dataclass

SLOTS = ("telemetry", "certificates")


@dataclass(frozen=True)
class GatewayPanel:
    slot: str
    template_name: str
    context: Callable | None = None
    order: int = 100


_panels: dict[str, GatewayPanel] = {}


def register_gateway_panel(
    *, slot: str, template_name: str, context: Callable | None = None, order: int = 100
) -> None:
    """Registers (or replaces, by template name) a panel of the gateway detail page."""
    if slot not in SLOTS:
        raise ValueError(f"unknown gateway panel slot {slot!r}; use one of {SLOTS}")
    _panels[template_name] = GatewayPanel(slot, template_name, context, order)


def unregister_gateway_panel(*, template_name: str) -> None:
    _panels.pop(template_name, None)


def gateway_panels(*, request, gateway) -> dict[str, list[dict]]:
    """{slot: [{"template_name": ..., "context": {...}}, ...]} for the page."""
    result: dict[str, list[dict]] = {slot: [] for slot in SLOTS}
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.template_name)):
        extra = panel.context(request, gateway) if panel.context else {}
        result[panel.slot].append({"template_name": panel.template_name, "context": extra or {}})
    return result
