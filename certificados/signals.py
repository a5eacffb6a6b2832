"""A deleted gateway's certificates are revoked: the pattern ACL would otherwise let
a still-valid certificate keep publishing on that MAC's topic. A certificate row that is
deleted anyway (its account deleted) is revoked first, so its serial stays in the CRL."""

import contextlib

from django.core.exceptions import ValidationError
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
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


@receiver(pre_delete, sender=CertificadoDevice, dispatch_uid="certificados_revoke_on_delete")
def revoke_deleted_certificate(sender, instance, **kwargs):
    from .services import certificado_revoke

    if instance.not_after <= timezone.now():
        return  # expired: the broker refuses it without a CRL entry
    with contextlib.suppress(ValidationError):  # already revoked: its record exists
        certificado_revoke(
            certificado=instance, reason=RevocationReason.CESSATION_OF_OPERATION, revoked_by=None
        )
