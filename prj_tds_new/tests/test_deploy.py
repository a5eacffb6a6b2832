"""deploy/ cannot rot (issue 12, item 13): every systemd unit's command line names
commands, options, apps and settings that exist; the proxy config matches the URLs; the
health endpoints answer; a backup restores (bin/backup.sh, bin/restore.sh)."""

import datetime as dt
import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bin.ensure_database import admin_connection
from tds_testing import factories
from tds_testing.mosquitto import free_port
from telemetria.storage import ReadingRow, insert_readings

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
SETTINGS_TEXT = (ROOT / "prj_tds_new" / "settings.py").read_text()


def unit_lines(path: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def test_there_are_units_for_every_process():
    names = {u.name for u in UNITS}
    assert {
        "tds-web.service",
        "tds-ingest@.service",
        "tds-celery-worker.service",
        "tds-celery-beat.service",
        "tds-mosquitto.service",
    } <= names


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_command_lines_refer_to_what_exists(unit):
    commands = get_commands()
    for line in unit_lines(unit, "ExecStart"):
        argv = shlex.split(line.replace("%i", "1"))
        program = Path(argv[0]).name
        if program == "python" and argv[1] == "manage.py":
            name, args = argv[2], argv[3:]
            assert name in commands, f"{unit.name}: no manage.py command {name!r}"
            command = load_command_class(commands[name], name)
            # Every option parses (an unknown one makes argparse exit).
            command.create_parser("manage.py", name).parse_args(args)
        elif program == "uvicorn":
            module, attr = argv[1].split(":")
            assert callable(getattr(importlib.import_module(module), attr))
            assert "--workers" in argv, "several web workers in production"
        elif program == "celery":
            assert argv[1:3] == ["-A", "prj_tds_new"]
            importlib.import_module("prj_tds_new.celery")
            assert argv[3] in ("worker", "beat")
        elif program in ("mosquitto", "curl"):
            assert Path(argv[0]).is_absolute()
        else:
            pytest.fail(f"{unit.name}: unexpected program {argv[0]}")
        if argv[0].startswith("/opt/tds/.venv/bin/"):
            assert (Path(sys.executable).parent / program).exists() or program == "python"
    for path in unit_lines(unit, "EnvironmentFile"):
        assert path == "/etc/tds/tds.env"  # deploy/tds.env.example says to copy it there
    for assignment in unit_lines(unit, "Environment"):
        name = assignment.split("=", 1)[0]
        assert f'"{name}"' in SETTINGS_TEXT, f"{unit.name}: {name} is no setting"


def test_every_variable_of_the_production_environment_is_read_by_the_settings():
    example = (ROOT / "deploy" / "tds.env.example").read_text()
    names = [line.split("=", 1)[0] for line in example.splitlines() if line and line[0].isalpha()]
    unread = [n for n in names if f'"{n}"' not in SETTINGS_TEXT and n != "TDS_INSTALLATION"]
    assert unread == []


def test_the_proxy_config_matches_the_urls_and_static_root():
    conf = (ROOT / "deploy" / "nginx" / "tds.conf").read_text()
    assert f"location = {reverse('telemetria:live_events')} {{" in conf
    assert f"location /{settings.STATIC_URL.strip('/')}/ {{" in conf
    sse = conf.split("location = /telemetria/eventos/", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in sse
    assert re.search(r"proxy_read_timeout (\d+)h;", sse)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "location /saude/" in conf
    assert "deny all;" in conf


# -- health ------------------------------------------------------------------------------
def test_liveness_answers_without_touching_anything(client, settings):
    settings.ALLOWED_HOSTS = ["tds.example.com"]  # probes come as 127.0.0.1
    response = client.get("/saude/vivo/", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_postgresql_redis_and_the_broker(client, settings, mosquitto):
    settings.MQTT_URL = f"mqtt://127.0.0.1:{mosquitto.port}"
    response = client.get("/saude/pronto/", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert response.json() == {"postgresql": "ok", "redis": "ok", "broker": "ok"}

    settings.MQTT_URL = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/saude/pronto/", HTTP_HOST="127.0.0.1")
    assert response.status_code == 503
    body = response.json()
    assert body["postgresql"] == "ok"
    assert body["broker"].startswith("erro: ConnectionRefusedError")
    assert body["redis"].startswith("erro: ConnectionError")


# -- backup and restore --------------------------------------------------------------------
def _url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_new_database(conta_a, tmp_path):
    gw = factories.make_gateway(conta=conta_a, codigo="GW-BKP")
    d = factories.make_dispositivo(gateway=gw, codigo="D01", tipo="ENERGIA")
    # A reading a day for 100 days: on TimescaleDB 100 chunks, so the dump's listing is
    # far larger than a pipe buffer, as any real database's is (restore.sh once lost its
    # TimescaleDB detection to SIGPIPE on such a listing).
    now = timezone.now()
    insert_readings(
        [
            ReadingRow(now - dt.timedelta(days=n), conta_a.pk, gw.pk, d.pk, Decimal(n), "kWh", None)
            for n in range(100)
        ]
    )
    env = {
        **os.environ,
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "PYTHON": sys.executable,
    }
    env.pop("TDS_PKI_DIR", None)
    out = subprocess.run(
        ["bash", "bin/backup.sh", str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=True,
    ).stdout.split()  # fmt: skip
    dump = Path(out[0])
    assert dump.exists()
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    target = f"tds_restore_{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(
            ["bash", "bin/restore.sh", str(dump), _url(target)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "schema up to date" in result.stdout
        with psycopg.connect(_url(target)) as restored:
            codigo = restored.execute(
                "SELECT g.codigo FROM tds_new_gateway g JOIN tds_new_dispositivo d"
                " ON d.gateway_id = g.id WHERE g.mac = %s",
                [gw.mac],
            ).fetchone()
            readings = restored.execute(
                "SELECT count(*) FROM tds_new_leitura_dispositivo WHERE dispositivo_id = %s",
                [d.pk],
            ).fetchone()
        assert codigo == ("GW-BKP",)
        assert readings == (100,)
        # Never over an existing database.
        again = subprocess.run(
            ["bash", "bin/restore.sh", str(dump), _url(target)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again.returncode != 0
        assert "exists" in again.stderr
    finally:
        admin, _ = admin_connection(_url(target))
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_the_nginx_config_is_valid(tmp_path):
    """`nginx -t` on deploy/nginx/tds.conf, with a throwaway certificate in place of the
    ACME one."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=tds.example.com"],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (ROOT / "deploy" / "nginx" / "tds.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/tds.example.com/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/tds.example.com/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n access_log off;\n"
        f" include {tmp_path}/site.conf;\n}}\n"
    )
    out = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
