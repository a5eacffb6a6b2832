"""The README that goes into a certificate download."""

from django.utils import timezone

from tds_core import wire


def example_payload(mac: str) -> str:
    """The reading format, shown but not offered as the test command: a made-up value on a
    meter in service is stored, and one below its last value is a backwards step (a meter
    event, counted zero)."""
    return wire.telemetry_payload(
        mac=mac,
        timestamp=timezone.now().replace(microsecond=0),
        leituras=[{"dispositivo_codigo": "D01", "valor": 123.45}],
        compact=True,
    ).decode()


# The test command publishes the gateway's `online` status (not retained): it proves the
# connection, the certificate and the topic permission, shows the gateway online in the
# platform, and writes no reading (the offline check takes the gateway back offline after
# its interval × TDS_OFFLINE_AFTER_INTERVALS of silence).
TEST_NOTE = """  Sucesso: o comando termina sem erro e o gateway aparece online na plataforma (volta a
  offline sozinho se nada mais chegar). O teste publica só o status, nenhuma leitura.
"""


def readings_format(mac: str) -> str:
    return f"""Formato das leituras (tópico telemetry; não publique valores inventados)
  {example_payload(mac)}
  Cada leitura entra no histórico do dispositivo_codigo cadastrado neste gateway; um valor
  menor que o último de um medidor acumulado fica registrado como recuo do medidor.
"""


def bundle_readme(*, certificado, has_key: bool) -> str:
    """pt-BR, with the broker address and port actually configured (broker.gateway_endpoint:
    TDS_MQTT_PUBLIC_HOST / _PORT, else an mqtts:// MQTT_URL; without an mTLS broker it says
    so and how to configure one); file names from services.bundle_basename (no colons:
    Windows and some zip tools refuse them)."""
    from .broker import gateway_endpoint
    from .services import bundle_basename

    mac = certificado.common_name
    name = bundle_basename(certificado)
    endpoint = gateway_endpoint()
    key_line = (
        f"  {name}.key   a chave privada, gerada no servidor e entregue só neste download\n"
        "             (a plataforma não guarda cópia): deixe-a no gateway, modo 0600.\n"
        if has_key
        else f"  (sem chave: use a chave privada do gateway que gerou o CSR, aqui {name}.key)\n"
    )
    revoked = ""
    if certificado.revoked_at:
        refused = (
            "O broker recusa este certificado depois de recarregar a CRL: emita um novo.\n\n"
            if endpoint.tls
            else "O broker em uso não verifica certificados (sem TLS, abaixo); num broker com\n"
            "mTLS este certificado é recusado: emita um novo.\n\n"
        )
        revoked = (
            f"ATENÇÃO: este certificado foi REVOGADO em {certificado.revoked_at:%d/%m/%Y %H:%M} UTC"
            f" (motivo: {certificado.get_revocation_reason_display()}).\n{refused}"
        )
    topics_head = (
        "O gateway só pode publicar em"
        if endpoint.tls
        else "Tópicos do gateway (o broker com mTLS só permite estes a este certificado)"
    )
    topics = f"""  {topics_head}
    {wire.telemetry_topic(mac)}   (QoS 1, leituras em JSON)
    {wire.status_topic(mac)}      (online / offline, retido; use offline como last will)
"""
    if endpoint.tls:
        broker = f"""Broker
  mqtts://{endpoint.address}  (TLS com certificado de cliente; MQTT 3.1.1 ou 5)
{topics}
Teste a partir desta pasta
  mosquitto_pub -h {endpoint.host} -p {endpoint.port} --cafile ca.crt --cert {name}.crt --key {name}.key \\
    -t {wire.status_topic(mac)} -q 1 -m {wire.ONLINE.decode()}

{TEST_NOTE}
{readings_format(mac)}"""
    else:
        broker = f"""Broker
  ATENÇÃO: esta instalação NÃO tem um broker com TLS configurado.
  O broker em uso é mqtt://{endpoint.address}, sem TLS (como o de desenvolvimento do `make run`):
  ele aceita qualquer cliente e não verifica este certificado.
{topics}
  Para que os gateways se conectem com este certificado, o administrador do servidor:
    {setup_steps_text()}

Teste no broker de desenvolvimento (sem TLS, sem certificado)
  mosquitto_pub -h {endpoint.host} -p {endpoint.port} \\
    -t {wire.status_topic(mac)} -q 1 -m {wire.ONLINE.decode()}

{TEST_NOTE}
{readings_format(mac)}"""
    return f"""TDS New — certificado do gateway {mac}
=====================================================

{revoked}Arquivos
  {name}.crt   o certificado de cliente do gateway (CN = {mac}),
             válido de {certificado.not_before:%d/%m/%Y} a {certificado.not_after:%d/%m/%Y} (UTC),
             série {certificado.serial}, SHA-256 {certificado.fingerprint_sha256}
{key_line}  ca.crt      a CA da plataforma: o certificado do broker é verificado com ela

{broker}"""


SETUP_STEPS = (
    "gera a configuração do broker com mTLS: python manage.py mosquitto_config --out DIR"
    " --port 8883",
    "inicia o broker com ela: mosquitto -c DIR/mosquitto.conf",
    "configura o consumidor (MQTT_URL=mqtts://localhost:8883, MQTT_CA_FILE, MQTT_CERT_FILE,\n"
    "       MQTT_KEY_FILE: o comando acima mostra os valores) e TDS_MQTT_PUBLIC_HOST /\n"
    "       TDS_MQTT_PUBLIC_PORT com o endereço que os gateways usam, e reinicia a plataforma.",
)


def setup_steps_text() -> str:
    return "\n    ".join(f"{i}. {step}" for i, step in enumerate(SETUP_STEPS, 1))
