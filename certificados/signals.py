"""A deleted gateway's certificates are revoked: the pattern ACL would otherwise let
a still-valid certificate keep publishing on that MAC's topic."""

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django_scopes import scopes_disabled

from dispositivos.models import Gateway

from .models import CertificadoDevice, RevocationReason


@receiver(pre_delete, sender=Gateway, dispatch_uid="certificados_revoke_on_gateway_delete")
def revoke_certificates_of_deleted_gateway(sender, instance, **kwargs):
    from .services import certificado_revoke

    with scopes_disabled():
        live = list(CertificadoDevice.objects.filter(gateway=instance, revoked_at__isnull=True))
    for cert in live:
        certificado_revoke(
            certificado=cert, reason=RevocationReason.CESSATION_OF_OPERATION, revoked_by=None
        )


# NATS deployment (certificados/nats.py): who may connect and publish is generated from
# the registry, so any change to a gateway or a certificate rewrites it after commit.
def _nats_refresh(**kwargs):
    from django.db import transaction

    from .nats import nats_auth_refresh

    transaction.on_commit(nats_auth_refresh)


for _model in (Gateway, CertificadoDevice):
    post_save.connect(_nats_refresh, sender=_model, dispatch_uid=f"nats_refresh_save_{_model}")
    post_delete.connect(_nats_refresh, sender=_model, dispatch_uid=f"nats_refresh_del_{_model}")
