"""Benchmarks run in a database of their own, so bench accounts and millions of rows never
land in the application's database: `<DATABASE_URL's name>_<suffix>`, created when missing,
kept between runs (data sets are built idempotently), migrated on each run."""

import os
import sys
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prj_tds_new.settings")
# Benches are development runs: DEBUG on, explicitly (the settings default to off).
os.environ.setdefault("DJANGO_DEBUG", "on")

from bin.ensure_database import DEFAULT_URL, admin_connection, ensure_database  # noqa: E402

# The environment of a consumer process a bench starts: production settings (DEBUG off, as
# the deployed consumer runs), which refuse to start without an explicit e-mail backend.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "off",
    "DJANGO_SECRET_KEY": "bench-only",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def use_bench_database(suffix: str, *, recreate: bool = False) -> str:
    """Points DATABASE_URL at the bench database (call before django.setup()); `recreate`
    drops it first, for a benchmark that needs an empty table."""
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    conn, name = admin_connection(url)
    # A bench's own subprocesses inherit the already-switched DATABASE_URL: keep it.
    if not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    with conn:
        if recreate:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        ensure_database(conn, name)
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    return os.environ["DATABASE_URL"]


def setup(suffix: str, *, recreate: bool = False) -> None:
    """The bench database, Django set up on it, migrations applied."""
    import django
    from django.core.management import call_command

    use_bench_database(suffix, recreate=recreate)
    django.setup()
    call_command("migrate", verbosity=0)
