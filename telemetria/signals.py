"""A member removed from an account (page, admin, account deletion) loses the live feed
at once: open SSE streams of that user on that account end (telemetria.sse)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from contas.models import ContaMembership
from tds_core.live import access_revoked_event, publish_live_event


@receiver(post_delete, sender=ContaMembership, dispatch_uid="telemetria_access_revoked")
def end_live_streams_of_removed_member(sender, instance, **kwargs):
    conta_id, user_id = instance.conta_id, instance.user_id
    transaction.on_commit(
        lambda: publish_live_event(conta_id=conta_id, event=access_revoked_event(user_id=user_id))
    )
