from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestaoConfig(AppConfig):
    name = "ingestao"
    verbose_name = _("Ingestão MQTT")

    def ready(self):
        from dispositivos.panels import register_gateway_panel
        from telemetria.selectors import register_dashboard_count

        from .selectors import rejeitadas_24h_count
        from .views import gateway_agent_panel_context

        register_dashboard_count(name="rejeitadas_24h", count=rejeitadas_24h_count)

        # The agent's configuration version and latest diagnostics on the gateway page.
        register_gateway_panel(
            slot="telemetry",
            template_name="ingestao/partials/gateway_agent.html",
            context=gateway_agent_panel_context,
            order=200,
        )
