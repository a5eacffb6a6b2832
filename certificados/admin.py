from django.contrib import admin

from .models import CertificadoDevice, Revogacao


@admin.register(CertificadoDevice)
class CertificadoDeviceAdmin(admin.ModelAdmin):
    """Read-only: certificates are issued and revoked through the services (pages and
    commands), which also keep the CRL and the broker in step."""

    list_display = ["common_name", "gateway", "conta", "serial", "not_after", "revoked_at"]
    list_filter = ["conta", "origem", "revocation_reason"]
    search_fields = ["common_name", "serial", "fingerprint_sha256"]
    readonly_fields = [f.name for f in CertificadoDevice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Revogacao)
class RevogacaoAdmin(admin.ModelAdmin):
    """The CRL's source: read-only, never deleted (a deleted row would un-revoke)."""

    list_display = ["common_name", "serial", "revoked_at", "reason", "not_after"]
    list_filter = ["reason"]
    search_fields = ["common_name", "serial"]
    readonly_fields = [f.name for f in Revogacao._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
