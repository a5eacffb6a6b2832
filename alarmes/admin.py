"""Read-only admin views of rules, alarms and transitions (changes go through the
app's pages and API, i.e. through alarmes.services)."""

from django.contrib import admin

from .models import Alarme, RegraAlarme, TransicaoAlarme


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegraAlarme)
class RegraAlarmeAdmin(ReadOnlyAdmin):
    list_display = ("nome", "conta", "tipo", "severidade", "ativo", "dispositivo", "gateway")
    list_filter = ("tipo", "severidade", "ativo")
    search_fields = ("nome", "conta__nome")


class TransicaoInline(admin.TabularInline):
    model = TransicaoAlarme
    extra = 0
    can_delete = False
    fields = ("tipo", "estado_anterior", "estado_novo", "usuario", "em", "comentario")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alarme)
class AlarmeAdmin(ReadOnlyAdmin):
    list_display = (
        "regra_nome",
        "conta",
        "estado",
        "severidade",
        "gateway",
        "dispositivo",
        "inicio",
        "fim",
    )
    list_filter = ("estado", "severidade", "tipo")
    search_fields = ("regra_nome", "conta__nome", "gateway__codigo")
    inlines = [TransicaoInline]
