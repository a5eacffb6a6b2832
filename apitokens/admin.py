from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["nome", "prefixo", "conta", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["conta"]
    readonly_fields = ["prefixo", "token_hash", "last_used_at", "criado_por"]
