"""Debian's chromium driven by Playwright, for browser tests and the screen-latency bench.

Playwright's own browser download cannot run here; we launch the system chromium with
flags that keep it off the network (the machine has none beyond the package registries).
"""

import shutil

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
