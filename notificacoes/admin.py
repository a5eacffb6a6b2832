"""Platform staff's view of the notifications (cross-tenant). Targets are edited through
the pages (services); here the outbox and the delivery log are read-only."""

from django.contrib import admin

from .models import DestinoNotificacao, Envio, Notificacao, TentativaEnvio


@admin.register(DestinoNotificacao)
class DestinoAdmin(admin.ModelAdmin):
    list_display = ["nome", "tipo", "conta", "severidade_minima", "ativo", "falhando_desde"]
    list_filter = ["tipo", "ativo", "conta"]
    search_fields = ["nome", "email", "webhook_url", "telegram_chat_id"]
    exclude = ["webhook_segredo", "telegram_bot_token"]
    readonly_fields = ["falhas_consecutivas", "falhando_desde", "ultimo_erro", "ultimo_sucesso_em"]

    def has_add_permission(self, request):
        return False


class TentativaInline(admin.TabularInline):
    model = TentativaEnvio
    extra = 0
    can_delete = False
    fields = ["numero", "inicio", "fim", "resultado", "status", "erro"]
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Envio)
class EnvioAdmin(ReadOnlyAdmin):
    list_display = ["assunto", "canal", "endereco", "conta", "estado", "tentativas", "created_at"]
    list_filter = ["estado", "canal", "conta"]
    search_fields = ["assunto", "endereco", "chave_idempotencia"]
    inlines = [TentativaInline]


@admin.register(Notificacao)
class NotificacaoAdmin(ReadOnlyAdmin):
    list_display = ["evento", "alarme", "canal", "endereco", "conta", "estado", "created_at"]
    list_filter = ["evento", "estado", "canal", "conta"]
    raw_id_fields = ["alarme", "destino", "envio"]
