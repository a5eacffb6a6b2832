"""Fixtures of the notification tests: an account with a rule on a device, real receivers
(SMTP, signed webhook, Telegram stand-in) on loopback, and settings pointing at them."""

import pytest

from tds_testing import factories
from tds_testing.notify_receivers import TELEGRAM_TOKEN, Receiver

from .helpers import SECRET, make_regra


@pytest.fixture(autouse=True)
def _no_enqueue_without_worker(settings):
    """Tests without a worker deliver in-process; queueing would leave tasks on the shared
    Redis. Worker tests turn it back on with their private queue."""
    settings.TDS_NOTIFY_ENQUEUE = False
    settings.TDS_NOTIFY_GROUP_SECONDS = 0
    settings.TDS_NOTIFY_RETRY_BASE_SECONDS = 0.2
    settings.TDS_NOTIFY_HTTP_TIMEOUT = 5


@pytest.fixture
def smtp(settings):
    with Receiver("smtp") as receiver:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = receiver.port
        yield receiver


@pytest.fixture
def webhook():
    with Receiver("webhook", secret=SECRET) as receiver:
        yield receiver


@pytest.fixture
def telegram(settings):
    with Receiver("telegram") as receiver:
        settings.TDS_TELEGRAM_API_URL = receiver.url
        settings.TDS_TELEGRAM_BOT_TOKEN = TELEGRAM_TOKEN
        yield receiver


@pytest.fixture
def gateway_a(conta_a):
    return factories.make_gateway(conta=conta_a, nome="Bloco A")


@pytest.fixture
def freezer(gateway_a):
    return factories.make_dispositivo(gateway=gateway_a, tipo="TEMP", nome="Freezer")


@pytest.fixture
def regra(freezer):
    return make_regra(freezer)
