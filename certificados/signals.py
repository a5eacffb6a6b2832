"""Certificates follow the registry. The ACL is a pattern on the certificate CN (the MAC),
so a live certificate speaks for whichever gateway holds that MAC:
- a deleted gateway's certificates are revoked;
- a gateway whose MAC changes gets its live certificates revoked (superseded);
- a MAC that still has a live certificate issued to another account cannot be registered;
- a certificate row deleted anyway (its account deleted) is revoked first, so its serial
  stays in the CRL."""

import contextlib

from django.core.exceptions import ValidationError
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from dispositivos.models import Gateway
from dispositivos.signals import gateway_mac_changed, gateway_mac_check

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


@receiver(gateway_mac_changed, dispatch_uid="certificados_revoke_on_mac_change")
def revoke_certificates_of_old_mac(sender, gateway, old_mac, **kwargs):
    """The CRL is published after commit (certificado_revoke's on_commit)."""
    from .services import certificado_revoke

    with scopes_disabled():
        live = list(CertificadoDevice.objects.filter(gateway=gateway, revoked_at__isnull=True))
    for cert in live:
        certificado_revoke(certificado=cert, reason=RevocationReason.SUPERSEDED, revoked_by=None)


@receiver(gateway_mac_check, dispatch_uid="certificados_refuse_mac_with_foreign_live_cert")
def refuse_mac_with_live_certificate_of_another_account(sender, conta_id, mac, **kwargs):
    with scopes_disabled():
        foreign = (
            CertificadoDevice.objects.filter(
                common_name=mac, revoked_at__isnull=True, not_after__gt=timezone.now()
            )
            .exclude(conta_id=conta_id)
            .exists()
        )
    if foreign:
        # Says nothing of the other account; the platform staff can revoke it.
        return _(
            "Este MAC ainda tem um certificado válido emitido para outra conta; "
            "ele precisa ser revogado antes (fale com o suporte)."
        )
    return None


# NATS deployment (certificados/nats.py): who may connect and publish is generated from
# the registry, so any change to a gateway or a certificate rewrites it after commit.
def _nats_refresh(**kwargs):
    from django.db import transaction

    from .nats import nats_auth_refresh

    transaction.on_commit(nats_auth_refresh)


for _model in (Gateway, CertificadoDevice):
    post_save.connect(_nats_refresh, sender=_model, dispatch_uid=f"nats_refresh_save_{_model}")
    post_delete.connect(_nats_refresh, sender=_model, dispatch_uid=f"nats_refresh_del_{_model}")
