"""Debian's chromium driven by Playwright, for browser tests and the screen-latency bench.

Playwright's own browser download cannot run here; we launch the system chromium with
flags that keep it off the network (the machine has none beyond the package registries).
"""

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class CspBypassingBrowser:
    """A Playwright browser whose pages and contexts bypass the site's
    Content-Security-Policy unless asked not to (`bypass_csp=False`): Playwright runs a
    test's string expressions (wait_for_function) through eval, which the policy forbids.
    The CSP itself is tested with bypass_csp=False (telemetria/tests/test_browser.py)."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **kwargs):
        kwargs.setdefault("bypass_csp", True)
        return self._browser.new_page(**kwargs)

    def new_context(self, **kwargs):
        kwargs.setdefault("bypass_csp", True)
        return self._browser.new_context(**kwargs)

    def __getattr__(self, name):
        return getattr(self._browser, name)


def launch_chromium(playwright):
    """A headless chromium browser from a `sync_playwright()` context."""
    return CspBypassingBrowser(
        playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    )


# Screenshots for a look by eye go to a temp dir, so a test run leaves the work tree clean
# and never replaces the README's, which bin/screenshots.py takes of the demo account.
# TDS_SCREENSHOTS=1 refreshes the one README screenshot a test takes (billing on a phone,
# prj_tds_new/tests/test_phone_browser.py) in docs/screenshots/.
SHOTS = Path(tempfile.gettempdir()) / "tds-screenshots"
SHOTS.mkdir(parents=True, exist_ok=True)
README_SHOTS = (
    Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    if os.environ.get("TDS_SCREENSHOTS")
    else SHOTS
)


def in_thread(fn, *args, **kwargs):
    """fn(*args, **kwargs) in another thread: Playwright's sync API runs an event loop in
    this one, and Django refuses sync database calls from a thread with a running loop."""
    from django.db import connections

    def run():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def sign_in(page, email: str, password: str | None = None) -> None:
    """Fills the login form the page shows and submits it (the factories' password unless
    given)."""
    if password is None:
        from tds_testing.factories import PASSWORD as password
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")


def login(page, base: str, email: str) -> None:
    """Opens the dashboard at `base`, signs in on the login page it redirects to, and waits
    for the dashboard."""
    from django.urls import reverse

    page.goto(base + reverse("telemetria:dashboard"))
    sign_in(page, email)
    page.wait_for_url("**/telemetria/")


def wait_live(page) -> None:
    """Until the page's live feed is connected."""
    page.wait_for_function("document.documentElement.dataset.liveState === 'live'", timeout=10000)
