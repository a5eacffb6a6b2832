"""Readings (LeituraDispositivo) and the record of which storage back end is in use.

The readings table is created by raw DDL in the migrations (a partitioned table on the
native back end, a hypertable on TimescaleDB), so the model is unmanaged: Django never
alters it. Writes go through `telemetria.storage.insert_readings`, reads through the
storage API; the model is there for ad-hoc ORM reads and the admin.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class LeituraDispositivo(models.Model):
    """One reading of a meter. Unique on (dispositivo, time): redelivery never duplicates.

    The foreign keys carry no database constraint (no per-row checks on the ingest path,
    and the table may be a hypertable); the ingest consumer resolves the ids itself.
    """

    pk = models.CompositePrimaryKey("dispositivo_id", "time")
    time = models.DateTimeField(_("instante"))
    conta = models.ForeignKey(
        "contas.Conta",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("conta"),
    )
    gateway = models.ForeignKey(
        "dispositivos.Gateway",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="leituras",
        verbose_name=_("gateway"),
    )
    dispositivo = models.ForeignKey(
        "dispositivos.Dispositivo",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="leituras",
        verbose_name=_("dispositivo"),
    )
    valor = models.DecimalField(_("valor"), max_digits=15, decimal_places=4)
    unidade = models.CharField(_("unidade"), max_length=16, blank=True)
    payload_raw = models.JSONField(_("payload bruto"), null=True, blank=True)

    objects = ScopedManager(conta="conta")

    class Meta:
        managed = False
        db_table = "tds_new_leitura_dispositivo"
        ordering = ["-time"]
        verbose_name = _("leitura")
        verbose_name_plural = _("leituras")

    def __str__(self):
        return (
            f"{self.dispositivo_id} @ {self.time:%Y-%m-%d %H:%M:%S%z}: {self.valor} {self.unidade}"
        )


class BackendArmazenamento(models.Model):
    """Which time-series back end the migrations built (one row). Shown in the admin."""

    class Nome(models.TextChoices):
        NATIVE = "native", _("PostgreSQL nativo (particionamento por dia + tabelas de rollup)")
        TIMESCALEDB = "timescaledb", _("TimescaleDB (hypertable + agregados contínuos)")

    nome = models.CharField(_("back end"), max_length=16, choices=Nome.choices)
    modo = models.CharField(
        _("TDS_TIMESCALE na migração"), max_length=8, help_text=_("auto, on ou off")
    )
    versao_extensao = models.CharField(_("versão do TimescaleDB"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("escolhido em"), auto_now_add=True)

    class Meta:
        managed = False  # created by the storage migration, kept by test flushes
        db_table = "tds_new_storage_backend"
        verbose_name = _("back end de armazenamento")
        verbose_name_plural = _("back end de armazenamento")

    def __str__(self):
        return self.get_nome_display()


class ExecucaoManutencao(models.Model):
    """One run of a storage maintenance job (retention, compression, partitions), by our
    own Celery beat jobs on both back ends: TimescaleDB's job scheduler is not relied on
    (on PostgreSQL 15 its policy jobs did their work and then recorded a failure). Failures
    are listed on the admin's storage page."""

    job = models.CharField(_("tarefa"), max_length=32)
    started_at = models.DateTimeField(_("iniciada em"), db_index=True)
    duration_s = models.FloatField(_("duração (s)"), default=0)
    ok = models.BooleanField(_("sucesso"), default=True)
    detalhe = models.TextField(_("detalhe"), blank=True)

    class Meta:
        db_table = "tds_new_execucao_manutencao"
        ordering = ["-started_at", "-pk"]
        verbose_name = _("execução de manutenção do armazenamento")
        verbose_name_plural = _("execuções de manutenção do armazenamento")

    def __str__(self):
        return f"{self.job} @ {self.started_at:%Y-%m-%d %H:%M} ({'ok' if self.ok else 'falha'})"
