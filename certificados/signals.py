"""A deleted gateway's certificates are revoked: the pattern ACL would otherwise let
a still-valid certificate keep publishing on that MAC's topic."""

from django.db.models.signals import pre_delete
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
