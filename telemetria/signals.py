"""Receivers of the apps below telemetry:
- a member removed from an account (page, admin, account deletion) loses the live feed
  at once: open SSE streams of that user on that account end (telemetria.sse);
- a device whose register maximum, factor or meter kind changed gets its counter's
  backwards steps judged again (storage.rejudge_counter_steps), in the same transaction."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from contas.models import ContaMembership
from dispositivos.signals import dispositivo_meter_changed
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
