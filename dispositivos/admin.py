from django.contrib import admin

from .form_mixins import MODBUS_DEFAULTED
from .gateway_config import gateway_config_bump
from .models import Dispositivo, Gateway


class DispositivoInline(admin.TabularInline):
    model = Dispositivo
    extra = 0
    fields = ["codigo", "nome", "tipo", "slave_id", "register_modbus", "fator_conversao", "unidade"]


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = ["codigo", "nome", "mac", "conta", "is_active", "is_online", "last_seen"]
    list_filter = ["conta", "is_active", "is_online"]
    search_fields = ["codigo", "nome", "mac"]
    inlines = [DispositivoInline]

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            obj.conta_id = form.instance.conta_id
            obj.save()
        formset.save_m2m()
        for obj in formset.deleted_objects:
            obj.delete()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # What the gateway's agent polls may have changed: a new config version.
        gateway_config_bump(gateway_ids=[form.instance.pk])


@admin.register(Dispositivo)
class DispositivoAdmin(admin.ModelAdmin):
    list_display = ["codigo", "nome", "tipo", "gateway", "conta", "slave_id", "unidade"]
    list_filter = ["tipo", "conta"]
    search_fields = ["codigo", "nome", "gateway__codigo", "gateway__mac"]
    raw_id_fields = ["gateway"]
    readonly_fields = ["conta"]

    def get_form(self, request, obj=None, **kwargs):
        # Built per request (inside the admin's unscoped context): the Modbus details
        # may be left out, the model's defaults then apply.
        form = super().get_form(request, obj, **kwargs)
        for name in MODBUS_DEFAULTED:
            if name in form.base_fields:
                form.base_fields[name].required = False
        return form

    def save_model(self, request, obj, form, change):
        obj.conta_id = obj.gateway.conta_id
        old = Dispositivo.objects.filter(pk=obj.pk).values_list("gateway_id", flat=True).first()
        super().save_model(request, obj, form, change)
        gateway_config_bump(gateway_ids={old, obj.gateway_id})

    def delete_model(self, request, obj):
        gateway_id = obj.gateway_id
        super().delete_model(request, obj)
        gateway_config_bump(gateway_ids=[gateway_id])

    def delete_queryset(self, request, queryset):
        gateway_ids = set(queryset.values_list("gateway_id", flat=True))
        super().delete_queryset(request, queryset)
        gateway_config_bump(gateway_ids=gateway_ids)
