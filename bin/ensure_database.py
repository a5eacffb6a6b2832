"""Creates the database named by DATABASE_URL when it does not exist (idempotent).

`admin_connection` is also what the benchmarks use to create and drop their databases."""

import os

import environ
import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tds_new"


def admin_connection(url: str) -> tuple[psycopg.Connection, str]:
    """(autocommit connection to the server's `postgres` database, the URL's database name)."""
    cfg = environ.Env.db_url_config(url)
    params = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    conn = psycopg.connect(**{k: v for k, v in params.items() if v is not None})
    return conn, cfg["NAME"]


def ensure_database(conn: psycopg.Connection, name: str) -> bool:
    """Create `name` when missing; True when it was created."""
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        return False
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


if __name__ == "__main__":
    connection, db_name = admin_connection(os.environ.get("DATABASE_URL", DEFAULT_URL))
    with connection:
        if ensure_database(connection, db_name):
            print(f"created database {db_name}")
