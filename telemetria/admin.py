from django.contrib import admin
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from .models import BackendArmazenamento, ExecucaoManutencao


@admin.register(BackendArmazenamento)
class BackendArmazenamentoAdmin(admin.ModelAdmin):
    """Read-only: which time-series back end the migrations built, and how its
    maintenance jobs (retention, compression, partitions) last went."""

    list_display = ("nome", "versao_extensao", "modo", "created_at", "manutencao")
    readonly_fields = ("nome", "versao_extensao", "modo", "created_at", "manutencao")

    @admin.display(description=_("manutenção"))
    def manutencao(self, obj):
        last = ExecucaoManutencao.objects.first()
        if last is None:
            return _("ainda não executada")
        failure = ExecucaoManutencao.objects.filter(ok=False).first()
        if not last.ok:
            return format_html(
                '<strong class="errornote">{}</strong> {}',
                _("FALHOU em %(quando)s:")
                % {"quando": f"{localtime(last.started_at):%d/%m/%Y %H:%M}"},
                last.detalhe[:300],
            )
        text = _("ok em %(quando)s") % {"quando": f"{localtime(last.started_at):%d/%m/%Y %H:%M}"}
        if failure is not None:
            text += " · " + _("última falha: %(quando)s") % {
                "quando": f"{localtime(failure.started_at):%d/%m/%Y %H:%M}"
            }
        return text

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExecucaoManutencao)
class ExecucaoManutencaoAdmin(admin.ModelAdmin):
    list_display = ("started_at", "job", "ok", "duration_s", "detalhe")
    list_filter = ("ok", "job")
    readonly_fields = ("started_at", "job", "ok", "duration_s", "detalhe")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
