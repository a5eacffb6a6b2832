"""Settings of the test suite (pyproject's DJANGO_SETTINGS_MODULE): the project's
settings with DJANGO_DEBUG on, explicitly, since they default to off (production). Set
in the environment, so the processes tests start (consumer, uvicorn) inherit it."""

import os

os.environ.setdefault("DJANGO_DEBUG", "on")

from .settings import *  # noqa: F403
