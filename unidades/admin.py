"""Units are edited here through the services; meter roles and resident links are shown
read-only (they are set on the app's pages, whose services check them)."""

from django.contrib import admin

from . import services
from .models import Medicao, MoradorUnidade, Unidade


@admin.register(Unidade)
class UnidadeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "fracao_ideal", "responsavel", "email", "conta"]
    list_filter = ["conta"]
    search_fields = ["bloco", "numero", "responsavel", "email"]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.UNIDADE_FIELDS if f in form.cleaned_data}
        if change:
            services.unidade_update(unidade=obj, **data)
        else:
            obj.pk = services.unidade_create(conta=form.cleaned_data["conta"], **data).pk


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Medicao)
class MedicaoAdmin(ReadOnlyAdmin):
    list_display = ["dispositivo", "papel", "unidade", "conta"]
    list_filter = ["papel", "conta"]


@admin.register(MoradorUnidade)
class MoradorUnidadeAdmin(ReadOnlyAdmin):
    list_display = ["membership", "unidade", "conta"]
    list_filter = ["conta"]
