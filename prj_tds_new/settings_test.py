"""Settings of the test suite (pyproject's DJANGO_SETTINGS_MODULE): the project's
settings with DJANGO_DEBUG on, explicitly, since they default to off (production). Set
in the environment, so the processes tests start (consumer, uvicorn) inherit it."""

import os

os.environ.setdefault("DJANGO_DEBUG", "on")
# Tests store readings and read the dashboard at once: no cached summary in between.
os.environ.setdefault("TDS_DASHBOARD_SUMMARY_SECONDS", "0")

from .settings import *  # noqa: F403
