from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificadosConfig(AppConfig):
    name = "certificados"
    verbose_name = _("Certificados")

    def ready(self):
        from dispositivos.panels import register_gateway_panel

        from . import signals  # noqa: F401
        from .views import gateway_panel_context

        register_gateway_panel(
            slot="certificates",
            template_name="certificados/partials/gateway_certificates.html",
            context=gateway_panel_context,
        )
