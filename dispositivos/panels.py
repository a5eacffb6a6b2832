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

The device page has one slot, "dispositivo_telemetry" (context gets the device, and
the template `dispositivo`, `gateway`, `can_edit`, `panel_context`). The gateway pages
(registry and telemetry) also render the "alerts" slot, and the dashboard the
"dashboard" slot (context gets None as its object).
"""

from collections.abc import Callable
from dataclasses import dataclass

GATEWAY_SLOTS = ("alerts", "telemetry", "certificates")
DISPOSITIVO_SLOTS = ("dispositivo_telemetry",)
DASHBOARD_SLOTS = ("dashboard",)
SLOTS = GATEWAY_SLOTS + DISPOSITIVO_SLOTS + DASHBOARD_SLOTS


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


def _panels_for(slots, request, obj) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {slot: [] for slot in slots}
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.template_name)):
        if panel.slot in result:
            extra = panel.context(request, obj) if panel.context else {}
            result[panel.slot].append(
                {"template_name": panel.template_name, "context": extra or {}}
            )
    return result


def gateway_panels(*, request, gateway) -> dict[str, list[dict]]:
    """{slot: [{"template_name": ..., "context": {...}}, ...]} for the gateway page."""
    return _panels_for(GATEWAY_SLOTS, request, gateway)


def dispositivo_panels(*, request, dispositivo) -> dict[str, list[dict]]:
    return _panels_for(DISPOSITIVO_SLOTS, request, dispositivo)


def dashboard_panels(*, request) -> dict[str, list[dict]]:
    return _panels_for(DASHBOARD_SLOTS, request, None)
