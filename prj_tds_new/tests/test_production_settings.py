"""Production is the default (issue 12, item 12): DEBUG off unless turned on, `check
--deploy` clean with the environment the README documents (deploy/tds.env.example), a
Content-Security-Policy without 'unsafe-inline', X-Forwarded-Proto trusted only when
configured, an explicit e-mail backend."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / "deploy" / "tds.env.example"


def production_env(**changes) -> dict:
    """The documented production environment, with a real secret; nothing inherited
    from the test run's DJANGO_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_"))}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DJANGO_SETTINGS_MODULE"] = "prj_tds_new.settings"
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def setting(name: str, env) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    out = run(["-c", code], env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_check_deploy_is_clean_with_the_documented_production_environment():
    out = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout


def test_debug_is_off_unless_turned_on():
    env = production_env(DJANGO_DEBUG=None)
    assert setting("DEBUG", env) == "False"
    assert setting("SESSION_COOKIE_SECURE", env) == "True"
    assert setting("SECURE_SSL_REDIRECT", env) == "True"


def test_production_refuses_to_start_without_secret_key_or_e_mail_backend():
    out = run(["manage.py", "check"], production_env(DJANGO_DEBUG=None, DJANGO_SECRET_KEY=None))
    assert out.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in out.stderr
    out = run(["manage.py", "check"], production_env(DJANGO_EMAIL_BACKEND=None))
    assert out.returncode != 0
    assert "DJANGO_EMAIL_BACKEND must be set" in out.stderr


def test_x_forwarded_proto_is_trusted_only_when_configured():
    assert setting("SECURE_PROXY_SSL_HEADER", production_env()) == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    untrusted = production_env(DJANGO_TRUST_X_FORWARDED_PROTO=None)
    assert setting("SECURE_PROXY_SSL_HEADER", untrusted) == "None"


@pytest.mark.django_db
def test_pages_carry_a_csp_without_unsafe_inline(client):
    response = client.get(reverse("login"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_no_template_has_inline_script_or_style():
    """What the policy would block in a browser: inline <script> code, <style> blocks,
    style="" and on*="" attributes (json_script data blocks are not executed). E-mail
    bodies (templates under an `email/` folder) are not pages: no CSP applies there, and
    mail clients need inline styles."""
    import re

    offenders = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts or "email" in path.parts:
            continue
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: {match.group(0)}")
        if re.search(r"<style|\sstyle=|\son[a-z]+=", text):
            offenders.append(str(path))
    assert offenders == []
