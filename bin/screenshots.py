"""The README's screenshots, taken from the demo account as `make run` seeds it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tds_shots .venv/bin/python bin/screenshots.py

Creates and migrates the database when needed, seeds what `make run` seeds (platform CA,
the demo account, six months of history: idempotent), serves the app under uvicorn on a
free port, logs in as the demo user in Debian's chromium (Playwright) and writes into
docs/screenshots/ (or --out):

    dashboard.png          the dashboard at 1366 px
    dashboard-phone.png    the dashboard at 390 px (whole page)
    gateway-phone.png      GW-DEMO-01's telemetry page at 390 px
    leituras-phone.png     the raw readings page at 390 px (first screen)
    dispositivo.png        GW-DEMO-02's energy meter (the seeded meter swap) at 1366 px

Use a database of its own (the demo account there is the one the README describes, not a
test account or one you changed by hand). The simulator does not run: gateways show offline.
"""

import argparse
import os
import subprocess
import sys
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


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tds_testing.browser import launch_chromium
    from tds_testing.uvicorn import UvicornServer

    out.mkdir(parents=True, exist_ok=True)
    server = UvicornServer()
    written = []
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                desktop = browser.new_page(viewport=DESKTOP, locale="pt-BR")
                login(desktop, server.url)
                dashboard_ready(desktop)
                desktop.screenshot(path=str(out / "dashboard.png"))
                written.append(out / "dashboard.png")
                swapped = desktop.evaluate(
                    """[...document.querySelectorAll('#serie-dispositivo option')]
                         .find(o => o.textContent.includes('GW-DEMO-02') && o.textContent.includes('kWh')).value"""
                )
                gateway = desktop.evaluate(
                    """[...document.querySelectorAll('#gateways-body tr')]
                         .find(r => r.textContent.includes('GW-DEMO-01')).dataset.gatewayId"""
                )
                desktop.goto(f"{server.url}/registro/dispositivos/{swapped}/")
                desktop.wait_for_load_state()
                desktop.wait_for_timeout(1000)
                desktop.screenshot(path=str(out / "dispositivo.png"), full_page=True)
                written.append(out / "dispositivo.png")

                phone = browser.new_page(
                    viewport=PHONE, locale="pt-BR", is_mobile=True, has_touch=True
                )
                login(phone, server.url)
                dashboard_ready(phone)
                phone.screenshot(path=str(out / "dashboard-phone.png"), full_page=True)
                written.append(out / "dashboard-phone.png")
                phone.goto(f"{server.url}/telemetria/gateways/{gateway}/")
                phone.wait_for_function(
                    "[...document.querySelectorAll('canvas.dev-spark')].every(c => c.dataset.points)"
                )
                phone.wait_for_timeout(300)
                phone.screenshot(path=str(out / "gateway-phone.png"), full_page=True)
                written.append(out / "gateway-phone.png")
                phone.goto(f"{server.url}/telemetria/leituras/")
                phone.wait_for_function("document.documentElement.dataset.liveState === 'live'")
                phone.screenshot(path=str(out / "leituras-phone.png"))
                written.append(out / "leituras-phone.png")
            finally:
                browser.close()
    finally:
        server.stop()
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
