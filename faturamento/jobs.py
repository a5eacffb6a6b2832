"""The statement-generation job: every unit's PDF of a closed period plus the workbook,
written into one zip under settings.TDS_DEMONSTRATIVOS_DIR, with its progress saved as it
goes (the page polls it)."""

import logging
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import override

from .demonstrativos import demonstrativos_do_periodo, pdf_demonstrativo, xlsx_periodo
from .models import GeracaoDemonstrativos, Periodo, StatusGeracao, StatusPeriodo

log = logging.getLogger(__name__)
PROGRESS_EVERY = 10  # units between progress saves


def _path(geracao: GeracaoDemonstrativos) -> Path:
    return Path(settings.TDS_DEMONSTRATIVOS_DIR) / str(geracao.conta_id) / f"{geracao.pk}.zip"


def zip_name(periodo: Periodo) -> str:
    return f"demonstrativos-{periodo.referencia:%Y-%m}-v{periodo.versao}.zip"


def pdf_name(demonstrativo) -> str:
    u = demonstrativo.unidade
    return f"{slugify(u.bloco) + '-' if u.bloco else ''}{slugify(u.numero)}.pdf"


@transaction.atomic
def geracao_iniciar(*, periodo: Periodo, user=None) -> GeracaoDemonstrativos:
    """Queues the job (after commit); a job already queued or running is returned instead."""
    periodo = Periodo.objects.select_for_update().get(pk=periodo.pk, conta_id=periodo.conta_id)
    if periodo.status == StatusPeriodo.ABERTO:
        raise ValidationError(_("Feche o período antes de gerar os demonstrativos."))
    active = GeracaoDemonstrativos.objects.filter(
        conta_id=periodo.conta_id, periodo=periodo,
        status__in=[StatusGeracao.NA_FILA, StatusGeracao.GERANDO],
    )  # fmt: skip
    # A job older than twice the task time limit died with its worker (or never reached
    # one): say so, and let a new one start.
    stale = timezone.now() - timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    active.filter(created_at__lt=stale).update(
        status=StatusGeracao.ERRO, erro=_("Tempo esgotado: o job não terminou."),
        concluido_em=timezone.now(),
    )  # fmt: skip
    running = active.first()
    if running:
        return running
    geracao = GeracaoDemonstrativos.objects.create(
        conta_id=periodo.conta_id, periodo=periodo, solicitado_por=user
    )
    from .tasks import gerar_demonstrativos_task

    transaction.on_commit(
        lambda: gerar_demonstrativos_task.apply_async(
            args=[geracao.pk], queue=settings.TDS_FATURAMENTO_QUEUE
        )
    )
    return geracao


def _drop_older_zips(geracao: GeracaoDemonstrativos) -> None:
    """Only the period's newest zip is kept on disk."""
    older = GeracaoDemonstrativos.objects.filter(
        conta_id=geracao.conta_id, periodo_id=geracao.periodo_id, status=StatusGeracao.PRONTO
    ).exclude(pk=geracao.pk)
    for old in older:
        Path(old.arquivo).unlink(missing_ok=True)
    older.update(arquivo="", erro=_("Substituído por uma geração mais nova."))


def geracao_executar(*, geracao_id: int) -> GeracaoDemonstrativos:
    geracao = GeracaoDemonstrativos.objects.select_related("periodo__conta").get(pk=geracao_id)
    qs = GeracaoDemonstrativos.objects.filter(pk=geracao.pk)
    try:
        with override(settings.LANGUAGE_CODE):
            demonstrativos = demonstrativos_do_periodo(periodo=geracao.periodo)
            qs.update(status=StatusGeracao.GERANDO, total=len(demonstrativos), feitos=0)
            path = _path(geracao)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for n, d in enumerate(demonstrativos, start=1):
                    zf.writestr(pdf_name(d), pdf_demonstrativo(d))
                    if n % PROGRESS_EVERY == 0:
                        qs.update(feitos=n)
                zf.writestr(
                    f"rateio-{geracao.periodo.referencia:%Y-%m}.xlsx",
                    xlsx_periodo(periodo=geracao.periodo),
                )
            tmp.replace(path)
        qs.update(
            status=StatusGeracao.PRONTO, feitos=len(demonstrativos), arquivo=str(path),
            concluido_em=timezone.now(),
        )  # fmt: skip
        _drop_older_zips(geracao)
    except Exception as exc:
        log.exception("statement generation %s failed", geracao_id)
        qs.update(status=StatusGeracao.ERRO, erro=str(exc)[:500], concluido_em=timezone.now())
    geracao.refresh_from_db()
    return geracao
