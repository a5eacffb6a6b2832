"""TDS_TIMESCALE and what the server offers (issue 12, item 11): the extension installed
but not preloaded must not reach CREATE EXTENSION (FATAL: the connection dies and migrate
failed with "the connection is closed")."""

import logging
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telemetria.storage import backend
from telemetria.storage.backend import TimescaleStatus, choose_backend, timescale_unusable_reason

pytestmark = pytest.mark.django_db

EDITOR = SimpleNamespace(connection=connection)
NOT_PRELOADED = TimescaleStatus(installed=False, available=True, preloaded=False)


@pytest.mark.parametrize(
    ("status", "usable", "words"),
    [
        (TimescaleStatus(False, False, False), False, "not installed"),
        (NOT_PRELOADED, False, "shared_preload_libraries = 'timescaledb'"),
        (TimescaleStatus(False, True, True), True, ""),
        (TimescaleStatus(True, True, True), True, ""),
    ],
)
def test_reason_names_what_to_do(status, usable, words):
    reason = timescale_unusable_reason(status)
    assert (reason == "") is usable
    assert words in reason


def test_this_server_reports_its_status_without_touching_the_extension():
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cur:
        status = backend.timescale_status(cur)
    assert isinstance(status.preloaded, bool)
    assert not any("CREATE EXTENSION" in q["sql"] for q in queries.captured_queries)


@pytest.fixture
def not_preloaded(monkeypatch):
    """The server state we cannot create here (the package installed, not preloaded)."""
    monkeypatch.setattr(backend, "timescale_status", lambda cursor: NOT_PRELOADED)


def test_auto_falls_back_to_native_with_a_warning(not_preloaded, settings, caplog):
    settings.TDS_TIMESCALE = "auto"
    with (
        caplog.at_level(logging.WARNING, logger="telemetria.storage.backend"),
        CaptureQueriesContext(connection) as queries,
    ):
        assert choose_backend(EDITOR) == ("native", "")
    assert not any("CREATE EXTENSION" in q["sql"] for q in queries.captured_queries)
    assert "shared_preload_libraries" in caplog.text
    with connection.cursor() as cur:  # the connection is still alive
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_on_fails_with_a_clear_message(not_preloaded, settings):
    settings.TDS_TIMESCALE = "on"
    with pytest.raises(ImproperlyConfigured, match=r"not preloaded.*shared_preload_libraries"):
        choose_backend(EDITOR)


def test_on_without_the_extension_fails_and_auto_is_native_on_a_server_without_it(settings):
    with connection.cursor() as cur:
        status = backend.timescale_status(cur)
    if status.available:
        pytest.skip("this server has TimescaleDB")
    settings.TDS_TIMESCALE = "on"
    with pytest.raises(ImproperlyConfigured, match="not installed"):
        choose_backend(EDITOR)
    settings.TDS_TIMESCALE = "auto"
    assert choose_backend(EDITOR) == ("native", "")
