"""Daily certificate job: flag certificates expiring within 30 days, keep the CRL fresh."""

from celery import shared_task
from django_scopes import scopes_disabled

from . import services


@shared_task(name="certificados.certificates_check_expiry")
def certificates_check_expiry() -> dict:
    with scopes_disabled():
        flagged = services.certificados_flag_expiring()
        try:
            crl_refreshed = services.crl_refresh_if_due()
        except services.pki.PkiError:
            crl_refreshed = False  # no CA yet: nothing was ever issued
    return {"flagged": len(flagged), "crl_refreshed": crl_refreshed}
