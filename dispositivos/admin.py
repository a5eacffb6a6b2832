from django.contrib import admin

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


@admin.register(Dispositivo)
class DispositivoAdmin(admin.ModelAdmin):
    list_display = ["codigo", "nome", "tipo", "gateway", "conta", "slave_id", "unidade"]
    list_filter = ["tipo", "conta"]
    search_fields = ["codigo", "nome", "gateway__codigo", "gateway__mac"]
    raw_id_fields = ["gateway"]
    readonly_fields = ["conta"]

    def save_model(self, request, obj, form, change):
        obj.conta_id = obj.gateway.conta_id
        super().save_model(request, obj, form, change)
