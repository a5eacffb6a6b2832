"""Project-wide fixtures. Tests talk to the real PostgreSQL, Redis and Mosquitto."""

import os
import uuid

import pytest
from django.conf import settings
from django_scopes import scopes_disabled

from contas.models import Role
from tds_testing import factories
from tds_testing.browser import launch_chromium
from tds_testing.mosquitto import PrivateMosquitto
from tds_testing.uvicorn import serving_test_database


@pytest.fixture(scope="session", autouse=True)
def _own_installation_namespace():
    """Each test run is an installation of its own on the shared Redis: its live events,
    registry notices, cache and Celery queues never mix with another run's (or a running
    `make run`'s). Subprocesses (consumers, Celery workers) inherit it from the environment."""
    from prj_tds_new.celery import app

    name = os.environ.get("TDS_INSTALLATION") or f"test-{uuid.uuid4().hex[:12]}"
    os.environ["TDS_INSTALLATION"] = settings.TDS_INSTALLATION = name
    options = {"global_keyprefix": f"tds:{name}:celery:"}
    app.conf.broker_transport_options = app.conf.result_backend_transport_options = options


@pytest.fixture(autouse=True)
def _unscoped_test_code():
    """Test code itself reads and writes across accounts; the code under test still
    runs inside the scope its middleware or worker sets."""
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate-limit counters live in the shared Redis cache: each test starts with its own
    (as it starts with its own database rows), whatever ran before it."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:test:{uuid.uuid4().hex}:"


@pytest.fixture
def conta_a(db):
    return factories.make_conta(nome="Condomínio Aurora")


@pytest.fixture
def conta_b(db):
    return factories.make_conta(nome="Utilidades Boreal")


@pytest.fixture
def admin_a(conta_a):
    return factories.make_member(conta=conta_a, role=Role.ADMIN).user


@pytest.fixture
def operador_a(conta_a):
    return factories.make_member(conta=conta_a, role=Role.OPERADOR).user


@pytest.fixture
def leitor_a(conta_a):
    return factories.make_member(conta=conta_a, role=Role.LEITOR).user


@pytest.fixture
def admin_b(conta_b):
    return factories.make_member(conta=conta_b, role=Role.ADMIN).user


@pytest.fixture
def as_role(client, conta_a):
    """as_role("operador") -> the test client logged in as a new member of account A with
    that role; as_role(None) -> the anonymous client."""

    def login(role):
        if role is not None:
            user = factories.make_member(conta=conta_a, role=Role(role)).user
            client.force_login(user)
        return client

    return login


@pytest.fixture
def mosquitto():
    """A private broker on a free port (persistence on, large queues)."""
    with PrivateMosquitto() as broker:
        yield broker


@pytest.fixture
def clean_store(db):
    """For transactional tests: empties the storage tables afterwards."""
    from tds_testing.readings import truncate_storage

    yield
    truncate_storage()


@pytest.fixture
def uvicorn_server(transactional_db):
    """`uvicorn prj_tds_new.asgi:application` on a free port, on the test database;
    its base URL."""
    with serving_test_database(TDS_SSE_HEARTBEAT_SECONDS="5") as url:
        yield url


@pytest.fixture
def browser():
    """Debian's chromium through Playwright (tds_testing.browser). Request it last: data
    fixtures must run before Playwright's loop starts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(autouse=True)
def _short_sse_streams_on_live_server(request):
    """Django's live_server is a threaded WSGI server: it serves the async SSE stream
    synchronously and waits for open streams when it shuts down. Keep them short there
    (EventSource reconnects by itself) so a test that opens a page with the live feed
    does not hold the run for the stream's full lifetime."""
    if "live_server" not in request.fixturenames:
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.TDS_SSE_MAX_SECONDS = 2
    yield
