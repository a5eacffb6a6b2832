from django.contrib import admin

from .models import BackendArmazenamento


@admin.register(BackendArmazenamento)
class BackendArmazenamentoAdmin(admin.ModelAdmin):
    """Read-only: shows which time-series back end the migrations built."""

    list_display = ("nome", "versao_extensao", "modo", "created_at")
    readonly_fields = ("nome", "versao_extensao", "modo", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
