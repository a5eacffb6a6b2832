"""Benchmarks run in a database of their own, so bench accounts and millions of rows never
land in the application's database: `<DATABASE_URL's name>_<suffix>`, created when missing,
kept between runs (data sets are built idempotently), migrated on each run."""

import os

import environ
import psycopg
from psycopg import sql


def use_bench_database(suffix: str, *, recreate: bool = False) -> str:
    """Points DATABASE_URL at the bench database (call before django.setup()); `recreate`
    drops it first, for a benchmark that needs an empty table."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tds_new")
    cfg = environ.Env.db_url_config(url)
    # A bench's own subprocesses inherit the already-switched DATABASE_URL: keep it.
    name = cfg["NAME"] if cfg["NAME"].endswith(f"_{suffix}") else f"{cfg['NAME']}_{suffix}"
    admin = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in admin.items() if v is not None}) as conn:
        if recreate:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    return os.environ["DATABASE_URL"]


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
