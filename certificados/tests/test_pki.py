"""The CA on disk and the checks on CSRs (cryptography only)."""

import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.management import CommandError, call_command

from certificados.pki import ca as pki
from tds_testing.pki import make_csr


def test_pki_init_writes_ca_with_private_key_0600_and_refuses_to_overwrite(tmp_path, settings):
    settings.TDS_PKI_DIR = tmp_path / "pki"
    call_command("pki_init")
    key_path = settings.TDS_PKI_DIR / "ca.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    first = (settings.TDS_PKI_DIR / "ca.crt").read_bytes()
    with pytest.raises(CommandError, match="already exists"):
        call_command("pki_init")
    assert (settings.TDS_PKI_DIR / "ca.crt").read_bytes() == first
    call_command("pki_init", "--force")
    assert (settings.TDS_PKI_DIR / "ca.crt").read_bytes() != first
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_ca_certificate_extensions(pki_dir):
    cert = x509.load_pem_x509_certificate((pki_dir / "ca.crt").read_bytes())
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign
    assert ku.crl_sign
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    crl = x509.load_pem_x509_crl((pki_dir / "crl.pem").read_bytes())
    assert crl.is_signature_valid(cert.public_key())
    assert len(list(crl)) == 0


def test_leaf_is_a_client_certificate_chained_to_the_ca(pki_dir):
    ca = pki.ca_load(pki_dir)
    key = pki.new_key()
    leaf = pki.sign_leaf(
        ca=ca, public_key=key.public_key(), common_name="aa:bb:cc:dd:ee:ff", days=10
    )
    leaf.verify_directly_issued_by(ca.cert)
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_csr_with_weak_rsa_key_is_refused():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem, _ = make_csr("aa:bb:cc:dd:ee:ff", key=weak)
    with pytest.raises(pki.CsrError, match="1024 bits"):
        pki.csr_load(pem)


def test_csr_with_small_curve_is_refused():
    try:
        weak = ec.generate_private_key(ec.SECP192R1())
    except Exception:
        pytest.skip("this OpenSSL cannot make P-192 keys")
    pem, _ = make_csr("aa:bb:cc:dd:ee:ff", key=weak)
    with pytest.raises(pki.CsrError, match="fraca"):
        pki.csr_load(pem)


def test_csr_with_bad_signature_is_refused():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem, _ = make_csr("aa:bb:cc:dd:ee:ff", key=key)
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0xFF  # last byte of the RSA signature
    with pytest.raises(pki.CsrError, match="assinatura"):
        pki.csr_load(bytes(der))


def test_garbage_is_not_a_csr():
    with pytest.raises(pki.CsrError, match="não é um CSR"):
        pki.csr_load(
            b"-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----\n"
        )


def test_rsa_2048_and_ec_p256_csrs_are_accepted():
    for key in (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
    ):
        pem, _ = make_csr("aa:bb:cc:dd:ee:ff", key=key)
        assert pki.csr_common_name(pki.csr_load(pem)) == "aa:bb:cc:dd:ee:ff"
