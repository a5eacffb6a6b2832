"""Fixtures of the project-wide tests (the phone-width browser test)."""

from telemetria.tests.test_browser import browser, uvicorn_server  # noqa: F401  (fixtures)
