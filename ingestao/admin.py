from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import DiagnosticoGateway, MensagemRejeitada


@admin.register(MensagemRejeitada)
class MensagemRejeitadaAdmin(admin.ModelAdmin):
    """Cross-account view for the operator, including rejects of unknown gateways."""

    list_display = ["recebida_em", "motivo", "topico", "gateway", "conta"]
    list_filter = ["motivo", "conta"]
    search_fields = ["topico", "detalhe"]
    date_hierarchy = "recebida_em"
    readonly_fields = [
        "recebida_em",
        "topico",
        "motivo",
        "detalhe",
        "gateway",
        "conta",
        "payload_preview",
    ]
    exclude = ["payload"]

    @admin.display(description=_("payload"))
    def payload_preview(self, obj):
        return obj.payload_text(limit=10000)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DiagnosticoGateway)
class DiagnosticoGatewayAdmin(admin.ModelAdmin):
    """Read-only: the consumer writes these rows."""

    list_display = [
        "gateway",
        "recebido_em",
        "config_versao",
        "outbox_pendentes",
        "ntp_sincronizado",
    ]
    search_fields = ["gateway__codigo", "gateway__mac"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
