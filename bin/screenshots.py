"""The README's screenshots, taken from the demo account as `make run` seeds it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tds_shots .venv/bin/python bin/screenshots.py

Creates and migrates the database when needed, seeds what `make run` seeds (platform CA,
the demo account, six months of history: idempotent), then runs what `make run` runs for
the demo, as private processes on free ports (never the machine's 1883 or 8000): a
Mosquitto, the consumer (`manage.py start_mqtt_consumer`), the simulator
(`manage.py simulate_gateways --conta demo`) and the app under uvicorn. Once every demo
gateway has reported since the start (online, fresh readings in the live list), it logs in
as the demo user in Debian's chromium (Playwright), writes into docs/screenshots/ (or
--out), and stops them all:

    dashboard.png          the dashboard at 1366 px
    dashboard-phone.png    the dashboard at 390 px (whole page)
    gateway-phone.png      GW-DEMO-01's telemetry page at 390 px
    leituras-phone.png     the raw readings page at 390 px (first screen)
    dispositivo.png        GW-DEMO-02's energy meter (the seeded meter swap) at 1366 px

Use a database of its own (the demo account there is the one the README describes, not a
test account or one you changed by hand).
"""

import argparse
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_EMAIL, DEMO_PASSWORD = "demo@tds.local", "demo-tds-2026"  # dispositivos seed_demo
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def seed() -> None:
    subprocess.run([sys.executable, "bin/ensure_database.py"], cwd=ROOT, check=True)
    manage("migrate", "--noinput", "-v", "0")
    manage("pki_init", "--if-missing")
    manage("seed_demo")
    manage("seed_demo_history")


def run_demo(stack: ExitStack) -> str:
    """Mosquitto, the consumer and the simulator, as `make run` starts them for the demo
    (the Procfile's broker, ingest and simulator), stopped when `stack` closes; returns
    once every simulated demo gateway has reported since now. The base URL of uvicorn."""
    from tds_testing.mosquitto import PrivateMosquitto
    from tds_testing.servers import stop
    from tds_testing.uvicorn import UvicornServer

    started = datetime.now(UTC)
    broker = stack.enter_context(PrivateMosquitto())
    os.environ["MQTT_URL"] = broker.url  # for the processes below, as make run sets it
    for command in (["start_mqtt_consumer"], ["simulate_gateways", "--conta", "demo"]):
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(stop, proc)  # SIGTERM: the simulator announces its gateways offline
    server = UvicornServer()
    stack.callback(server.stop)
    wait_reported(started)
    return server.url


def wait_reported(since: datetime, timeout: float = 90) -> None:
    """Until every simulated demo gateway is online and each of its meters has a reading
    stored after `since` (the simulator publishes every 10 s; the consumer may subscribe
    after its first round)."""
    import django

    django.setup()
    from django.db import connections
    from django_scopes import scopes_disabled

    from dispositivos.models import Dispositivo, Gateway
    from telemetria.storage import latest_per_device

    with scopes_disabled():
        gateways = Gateway.objects.filter(conta__slug="demo", simulado=True, is_active=True)
        devices = Dispositivo.objects.filter(gateway__in=gateways, is_active=True)
        conta_id, ids = gateways[0].conta_id, list(devices.values_list("pk", flat=True))

        def reported() -> bool:
            latest = latest_per_device(conta_id=conta_id, dispositivo_ids=ids)
            return not gateways.filter(is_online=False).exists() and all(
                i in latest and latest[i].time > since for i in ids
            )

        deadline = time.monotonic() + timeout
        while not reported():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo gateways did not report within {timeout:.0f} s")
            time.sleep(0.5)
    connections.close_all()


def login(page, base: str) -> None:
    page.goto(base + "/entrar/")
    page.fill("#id_username", DEMO_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/telemetria/")


def dashboard_ready(page) -> None:
    page.wait_for_function("document.documentElement.dataset.liveState === 'live'")
    page.wait_for_selector("#consumo-charts[data-loaded='1'] canvas")
    page.wait_for_function(
        "(() => { const c = Chart.getChart(document.getElementById('serie-chart'));"
        " return c && c.data.datasets[0].data.length > 0; })()"
    )
    page.wait_for_timeout(500)  # the charts' last frame


def snap(page, path: Path, written: list[Path], **kwargs) -> None:
    """A screenshot, refused when the page scrolls sideways (something wider than the
    viewport would be clipped in it)."""
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wide > 0:
        raise RuntimeError(f"{page.url} scrolls sideways by {wide} px")
    page.screenshot(path=str(path), **kwargs)
    written.append(path)


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tds_testing.browser import launch_chromium

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with ExitStack() as stack:
        base = run_demo(stack)
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                desktop = browser.new_page(viewport=DESKTOP, locale="pt-BR")
                login(desktop, base)
                dashboard_ready(desktop)
                snap(desktop, out / "dashboard.png", written)
                swapped = desktop.evaluate(
                    """[...document.querySelectorAll('#serie-dispositivo option')]
                         .find(o => o.textContent.includes('GW-DEMO-02') && o.textContent.includes('kWh')).value"""
                )
                gateway = desktop.evaluate(
                    """[...document.querySelectorAll('#gateways-body tr')]
                         .find(r => r.textContent.includes('GW-DEMO-01')).dataset.gatewayId"""
                )
                desktop.goto(f"{base}/registro/dispositivos/{swapped}/")
                desktop.wait_for_load_state()
                desktop.wait_for_timeout(1000)
                snap(desktop, out / "dispositivo.png", written, full_page=True)

                phone = browser.new_page(
                    viewport=PHONE, locale="pt-BR", is_mobile=True, has_touch=True
                )
                login(phone, base)
                dashboard_ready(phone)
                snap(phone, out / "dashboard-phone.png", written, full_page=True)
                phone.goto(f"{base}/telemetria/gateways/{gateway}/")
                phone.wait_for_function(
                    "[...document.querySelectorAll('canvas.dev-spark')].every(c => c.dataset.points)"
                )
                phone.wait_for_timeout(300)
                snap(phone, out / "gateway-phone.png", written, full_page=True)
                phone.goto(f"{base}/telemetria/leituras/")
                phone.wait_for_function("document.documentElement.dataset.liveState === 'live'")
                snap(phone, out / "leituras-phone.png", written)
            finally:
                browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--no-seed", action="store_true", help="the database is seeded already")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prj_tds_new.settings")
    os.environ.setdefault("DJANGO_DEBUG", "on")
    if not args.no_seed:
        seed()
    for path in shoot(args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
