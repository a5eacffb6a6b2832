"""The registry in the Django admin writes through the same services as the pages
(validation, the MAC check across accounts, capacity checks, registry change notices,
certificate revocation on a MAC change or deletion).

A gateway's account is read-only once it exists: moving a gateway to another account is
not offered (its readings, devices and certificates belong to the old one). Delete it
(its certificates are revoked) and register it again in the other account.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from contas.forms import apply_validation_error

from . import services
from .form_mixins import ModbusDefaultsMixin
from .forms import DispositivoForm, GatewayForm
from .models import Dispositivo, Gateway


class ServiceAdminForm(forms.ModelForm):
    """Saves through a service during validation, so the service's ValidationErrors show
    on the admin form like any other (the admin view is one transaction). The admin's
    own save then has nothing left to do."""

    editable: tuple[str, ...] = ()

    def _post_clean(self):
        if self.errors:
            return
        data = {k: v for k, v in self.cleaned_data.items() if k in self.editable}
        try:
            self.instance = self.service_save(data)
        except ValidationError as exc:
            apply_validation_error(self, exc)

    def service_save(self, data: dict):
        raise NotImplementedError


class GatewayAdminForm(ServiceAdminForm):
    editable = tuple(GatewayForm.Meta.fields)

    class Meta:
        model = Gateway
        fields = ("codigo",)  # ModelAdmin.fields decides; "__all__" would query unscoped

    def service_save(self, data):
        if self.instance.pk:
            return services.gateway_update(gateway=self.instance, **data)
        return services.gateway_create(conta=self.cleaned_data["conta"], **data)


class DispositivoAdminForm(ModbusDefaultsMixin, ServiceAdminForm):
    editable = tuple(f for f in DispositivoForm.Meta.fields if f != "gateway")

    class Meta:
        model = Dispositivo
        fields = ("codigo",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._modbus_optional()

    def clean(self):
        return self._modbus_defaults(super().clean())

    def service_save(self, data):
        gateway = self.cleaned_data["gateway"]
        if self.instance.pk:
            return services.dispositivo_update(dispositivo=self.instance, gateway=gateway, **data)
        return services.dispositivo_create(gateway=gateway, **data)


class ServiceAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        pass  # saved by the form's service call

    def delete_model(self, request, obj):
        self.delete_service(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_service(obj)


class DispositivoInline(admin.TabularInline):
    """Read-only: devices are edited on their own admin page, through the services."""

    model = Dispositivo
    extra = 0
    fields = ["codigo", "nome", "tipo", "slave_id", "register_modbus", "fator_conversao", "unidade"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Gateway)
class GatewayAdmin(ServiceAdmin):
    form = GatewayAdminForm
    fields = ["conta", *GatewayForm.Meta.fields, "is_online", "last_seen"]
    list_display = ["codigo", "nome", "mac", "conta", "is_active", "is_online", "last_seen"]
    list_filter = ["conta", "is_active", "is_online"]
    search_fields = ["codigo", "nome", "mac"]
    inlines = [DispositivoInline]

    def get_readonly_fields(self, request, obj=None):
        status = ["is_online", "last_seen"]
        return ["conta", *status] if obj is not None else status

    def delete_service(self, obj):
        services.gateway_delete(gateway=obj)


@admin.register(Dispositivo)
class DispositivoAdmin(ServiceAdmin):
    form = DispositivoAdminForm
    fields = ["conta", *DispositivoForm.Meta.fields]
    list_display = ["codigo", "nome", "tipo", "gateway", "conta", "slave_id", "unidade"]
    list_filter = ["tipo", "conta"]
    search_fields = ["codigo", "nome", "gateway__codigo", "gateway__mac"]
    raw_id_fields = ["gateway"]
    readonly_fields = ["conta"]

    def delete_service(self, obj):
        services.dispositivo_delete(dispositivo=obj)
