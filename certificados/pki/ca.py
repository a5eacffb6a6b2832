"""The platform CA: creation on disk, loading, signing leaf certificates and the CRL.

The CA key lives only in `TDS_PKI_DIR/ca.key` (mode 0600), never in the database.
Keys are EC P-256: small, fast, and accepted by Mosquitto/OpenSSL and gateway TLS stacks.
"""

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils.translation import gettext as _

CA_KEY = "ca.key"
CA_CERT = "ca.crt"
CRL_FILE = "crl.pem"
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


class PkiError(Exception):
    """A PKI operation that cannot be done (no CA, CA exists, bad CSR...)."""


class CsrError(PkiError):
    """A CSR that is refused; the message is shown to the user."""


@dataclass(frozen=True)
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    dir: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_private(path: Path, data: bytes) -> None:
    """Writes a private key readable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def ca_exists(pki_dir: Path) -> bool:
    return (Path(pki_dir) / CA_KEY).exists() or (Path(pki_dir) / CA_CERT).exists()


def ca_create(
    *, pki_dir: Path, common_name: str = "TDS New Platform CA", days: int = 3650, force=False
) -> CA:
    pki_dir = Path(pki_dir)
    if ca_exists(pki_dir) and not force:
        raise PkiError(f"a CA already exists in {pki_dir}; use --force to replace it")
    key = new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TDS New"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    pki_dir.mkdir(parents=True, exist_ok=True)
    write_private(pki_dir / CA_KEY, key_pem(key))
    (pki_dir / CA_CERT).write_bytes(cert_pem(cert))
    ca = CA(key=key, cert=cert, dir=pki_dir)
    write_crl(ca=ca, revoked=[])
    return ca


def ca_load(pki_dir: Path) -> CA:
    pki_dir = Path(pki_dir)
    try:
        key = serialization.load_pem_private_key((pki_dir / CA_KEY).read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate((pki_dir / CA_CERT).read_bytes())
    except FileNotFoundError:
        raise PkiError(f"no CA in {pki_dir}: run `python manage.py pki_init` first") from None
    return CA(key=key, cert=cert, dir=pki_dir)


def check_public_key(public_key) -> None:
    """Refuses keys too weak for a device identity."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise CsrError(
                _("chave RSA de %(bits)s bits é fraca; use RSA ≥ %(min)s bits ou EC P-256")
                % {"bits": public_key.key_size, "min": MIN_RSA_BITS}
            )
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size < MIN_EC_BITS:
            raise CsrError(
                _("curva EC %(curve)s é fraca; use P-256 ou maior")
                % {"curve": public_key.curve.name}
            )
    elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return
    else:
        raise CsrError(_("tipo de chave não suportado; use EC P-256 ou RSA ≥ 2048 bits"))


def csr_load(data: bytes | str) -> x509.CertificateSigningRequest:
    """Parses a PEM (or DER) CSR and checks its signature and key strength."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        csr = x509.load_pem_x509_csr(raw) if b"-----BEGIN" in raw else x509.load_der_x509_csr(raw)
    except ValueError:
        raise CsrError(_("o arquivo não é um CSR (PKCS#10) válido em PEM ou DER")) from None
    if not csr.is_signature_valid:
        raise CsrError(_("a assinatura do CSR não confere com a chave pública"))
    check_public_key(csr.public_key())
    return csr


def csr_common_name(csr: x509.CertificateSigningRequest) -> str:
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else ""


def _key_usage(*, key_encipherment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def sign_leaf(
    *,
    ca: CA,
    public_key,
    common_name: str,
    days: int,
    server: bool = False,
    also_client: bool = False,
    hosts: tuple[str, ...] = (),
    uris: tuple[str, ...] = (),
    serial: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """A client (or, with server=True, a server) certificate signed by the CA.

    also_client: a server certificate also valid as a client one (a NATS node dialing
    another node's route port). uris: URI names (a client certificate's own identity, see
    certificate_uri)."""
    check_public_key(public_key)
    now = _now()
    not_before = not_before or now - dt.timedelta(minutes=5)
    not_after = not_after or now + dt.timedelta(days=days)
    not_after = min(not_after, ca.cert.not_valid_after_utc)
    eku = [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
    if server and also_client:
        eku.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(key_encipherment=isinstance(public_key, rsa.RSAPublicKey)), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    alt = [x509.UniformResourceIdentifier(uri) for uri in uris]
    if server:
        for host in hosts:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
    if server or alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


@dataclass(frozen=True)
class Revoked:
    serial: int
    revoked_at: dt.datetime
    reason: x509.ReasonFlags | None = None


def build_crl(*, ca: CA, revoked: list[Revoked], days: int = 365) -> x509.CertificateRevocationList:
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    for item in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(item.serial)
            .revocation_date(item.revoked_at)
        )
        if item.reason is not None and item.reason != x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(item.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256())


def write_crl(*, ca: CA, revoked: list[Revoked], days: int = 365, extra_paths=()) -> Path:
    """Writes the CRL atomically to TDS_PKI_DIR/crl.pem (and every extra path)."""
    data = build_crl(ca=ca, revoked=revoked, days=days).public_bytes(serialization.Encoding.PEM)
    target = ca.dir / CRL_FILE
    for path in (target, *[Path(p) for p in extra_paths]):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return target


CERTIFICATE_URI = "urn:tds-new:certificado:"


def certificate_uri(serial: int) -> str:
    """The URI name a gateway certificate carries besides its CN: one per certificate, so a
    broker that maps a certificate to a user by name (NATS `verify_and_map`) can refuse
    one certificate of a gateway and accept another."""
    return f"{CERTIFICATE_URI}{serial:x}"


def certificate_uris(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return list(san.get_values_for_type(x509.UniformResourceIdentifier))


def spki_sha256(cert: x509.Certificate) -> str:
    """Hex SHA-256 of the certificate's public key info (nats-server `pinned_certs`)."""
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def fingerprint_sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
