from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from certificados import selectors, services
from certificados.models import CertificadoDevice, Status
from tds_testing import factories

pytestmark = pytest.mark.django_db


def test_status_per_gateway_valid_expiring_expired_revoked_none(pki_dir, conta_a):
    gws = {
        name: factories.make_gateway(conta=conta_a)
        for name in ("valid", "expiring", "expired", "revoked", "none")
    }
    services.certificado_issue(gateway=gws["valid"], days=365)
    services.certificado_issue(gateway=gws["expiring"], days=20)
    expired = services.certificado_issue(gateway=gws["expired"], days=20).certificado
    CertificadoDevice.objects.filter(pk=expired.pk).update(
        not_after=timezone.now() - timedelta(days=1)
    )
    revoked = services.certificado_issue(gateway=gws["revoked"]).certificado
    services.certificado_revoke(certificado=revoked, reason="superseded")
    status = selectors.certificate_status_for_gateways(
        conta=conta_a, gateway_ids=[g.pk for g in gws.values()]
    )
    assert status == {gws[name].pk: Status(name) for name in gws}


def test_revoked_then_reissued_gateway_is_valid(pki_dir, gateway_a):
    old = services.certificado_issue(gateway=gateway_a).certificado
    services.certificado_revoke(certificado=old, reason="superseded")
    services.certificado_issue(gateway=gateway_a)
    status = selectors.certificate_status_for_gateways(
        conta=gateway_a.conta, gateway_ids=[gateway_a.pk]
    )
    assert status[gateway_a.pk] == Status.VALID


def test_selectors_never_cross_accounts(pki_dir, gateway_a, gateway_b, conta_a):
    cert_b = services.certificado_issue(gateway=gateway_b).certificado
    services.certificado_issue(gateway=gateway_a)
    assert [c.conta_id for c in selectors.certificado_list(conta=conta_a)] == [conta_a.pk]
    with pytest.raises(Http404):
        selectors.certificado_get(conta=conta_a, pk=cert_b.pk)
    status = selectors.certificate_status_for_gateways(conta=conta_a, gateway_ids=[gateway_b.pk])
    assert status == {gateway_b.pk: Status.NONE}
