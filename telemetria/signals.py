"""Receivers of the apps below telemetry:
- a member removed from an account (page, admin, account deletion) loses the live feed
  at once: open SSE streams of that user on that account end (telemetria.sse);
- a device whose register maximum, factor or meter kind changed gets its counter's
  backwards steps judged again (storage.rejudge_counter_steps), in the same transaction;
- a device moved to another gateway, re-typed (tipo, unidade, meter kind) or deleted has
  its consumption totals moved (storage.totals.retotal_device), in the same transaction:
  its whole history follows it to the new group, as a sum at request time would."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from contas.models import ContaMembership
from dispositivos.models import Dispositivo
from dispositivos.signals import dispositivo_meter_changed, dispositivo_regrouped
from tds_core.live import access_revoked_event, publish_live_event


@receiver(post_delete, sender=ContaMembership, dispatch_uid="telemetria_access_revoked")
def end_live_streams_of_removed_member(sender, instance, **kwargs):
    conta_id, user_id = instance.conta_id, instance.user_id
    transaction.on_commit(
        lambda: publish_live_event(conta_id=conta_id, event=access_revoked_event(user_id=user_id))
    )


@receiver(dispositivo_meter_changed, dispatch_uid="telemetria_rejudge_counter_steps")
def rejudge_counter_steps_of_changed_meter(sender, dispositivo, fields, **kwargs):
    from .storage import rejudge_counter_steps

    rejudge_counter_steps(dispositivo_id=dispositivo.pk)


@receiver(dispositivo_regrouped, dispatch_uid="telemetria_retotal_regrouped_device")
def retotal_regrouped_device(sender, dispositivo, old, **kwargs):
    from django.db import connection

    from .storage.totals import retotal_device

    with transaction.atomic(), connection.cursor() as cur:
        retotal_device(
            cur,
            dispositivo_id=dispositivo.pk,
            conta_id=dispositivo.conta_id,
            groups=[
                (old["gateway_id"], old["tipo"], old["unidade"]),
                (dispositivo.gateway_id, dispositivo.tipo, dispositivo.unidade),
            ],
        )


@receiver(post_delete, sender=Dispositivo, dispatch_uid="telemetria_retotal_deleted_device")
def retotal_deleted_device(sender, instance, **kwargs):
    """Every way a device goes (its page, the admin, its gateway's or account's deletion)."""
    from django.db import connection

    from .storage.totals import retotal_device

    with transaction.atomic(), connection.cursor() as cur:
        retotal_device(
            cur,
            dispositivo_id=instance.pk,
            conta_id=instance.conta_id,
            groups=[(instance.gateway_id, instance.tipo, instance.unidade)],
        )
