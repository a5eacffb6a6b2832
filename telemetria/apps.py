from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemetriaConfig(AppConfig):
    name = "telemetria"
    verbose_name = _("Telemetria")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401
        from .storage.signals import create_partitions_after_migrate

        # Native back end: day partitions exist right after `migrate` (the hourly job keeps them).
        post_migrate.connect(create_partitions_after_migrate, sender=self)
        from dispositivos.panels import register_gateway_panel

        from .views import gateway_panel_context

        # Each device's latest value, status and sparkline on the registry's gateway page.
        register_gateway_panel(
            slot="telemetry",
            template_name="telemetria/partials/gateway_panel.html",
            context=gateway_panel_context,
        )
