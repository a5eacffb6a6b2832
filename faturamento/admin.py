"""Billing in the admin is read-only: periods are opened, billed, closed and corrected on
the app's pages through the services (a closed period must never change)."""

from django.contrib import admin

from .models import Cobranca, ConfigFaturamento, Fatura, GeracaoDemonstrativos, Periodo


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConfigFaturamento)
class ConfigFaturamentoAdmin(ReadOnlyAdmin):
    list_display = ["conta", "dia_fechamento", "perda_limite_pct"]


@admin.register(Periodo)
class PeriodoAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "conta", "inicio", "fim", "status", "fechado_em"]
    list_filter = ["status", "conta"]


@admin.register(Fatura)
class FaturaAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "conta", "valor_total", "modo", "metodo_comum", "consumo_comum"]
    list_filter = ["tipo", "conta"]


@admin.register(Cobranca)
class CobrancaAdmin(ReadOnlyAdmin):
    list_display = ["unidade", "periodo", "tipo", "consumo", "estimado", "valor", "conta"]
    list_filter = ["tipo", "estimado", "conta"]


@admin.register(GeracaoDemonstrativos)
class GeracaoDemonstrativosAdmin(ReadOnlyAdmin):
    list_display = ["periodo", "conta", "status", "feitos", "total", "created_at"]
    list_filter = ["status"]
