"""Creates the database named by DATABASE_URL when it does not exist (idempotent)."""

import os

import environ
import psycopg
from psycopg import sql

url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tds_new")
cfg = environ.Env.db_url_config(url)
name = cfg["NAME"]
params = {
    "host": cfg.get("HOST") or None,
    "port": cfg.get("PORT") or None,
    "user": cfg.get("USER") or None,
    "password": cfg.get("PASSWORD") or None,
    "dbname": "postgres",
    "autocommit": True,
}
with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"created database {name}")
