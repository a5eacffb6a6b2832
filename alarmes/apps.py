from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlarmesConfig(AppConfig):
    name = "alarmes"
    verbose_name = _("Alarmes")

    def ready(self):
        from dispositivos.panels import register_gateway_panel
        from ingestao.pipeline import register_committed_hook

        from . import receivers  # noqa: F401  (rule-cache invalidation)
        from .engine import on_committed_batch, warm_up
        from .selectors import chart_alarm_marks, open_alarms

        # Reading-driven rules run on each batch the consumer committed (before its ack).
        register_committed_hook(on_committed_batch, warm_up=warm_up)

        # Open alarms on the dashboard and on the gateway pages (updated live by
        # static/js/tds-alarms.js).
        register_gateway_panel(
            slot="dashboard",
            template_name="alarmes/partials/open_alarms_panel.html",
            context=lambda request, _obj: {
                "alarmes": open_alarms(conta=request.conta),
                "marcas": chart_alarm_marks(conta=request.conta),
            },
        )
        register_gateway_panel(
            slot="alerts",
            template_name="alarmes/partials/open_alarms_gateway.html",
            context=lambda request, gateway: {
                "alarmes": open_alarms(conta=request.conta, gateway_id=gateway.pk),
                "marcas": chart_alarm_marks(conta=request.conta, gateway_id=gateway.pk),
                "gateway_id": gateway.pk,
            },
        )
