"""Drops the engine's cached rule sets when what they were built from changes: a rule,
its exclusions, or a device (its gateway, type or active flag decide which rules apply)."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from dispositivos.models import Dispositivo, Gateway

from .events import rules_changed
from .models import RegraAlarme


def _after_commit(conta_id):
    if conta_id:
        transaction.on_commit(lambda: rules_changed(conta_id=conta_id))


@receiver(post_save, sender=RegraAlarme)
@receiver(post_delete, sender=RegraAlarme)
@receiver(post_save, sender=Dispositivo)
@receiver(post_delete, sender=Dispositivo)
@receiver(post_save, sender=Gateway)
def _rules_source_changed(sender, instance, **kwargs):
    _after_commit(instance.conta_id)


@receiver(m2m_changed, sender=RegraAlarme.exclusoes.through)
def _exclusions_changed(sender, instance, **kwargs):
    if isinstance(instance, RegraAlarme):
        _after_commit(instance.conta_id)
