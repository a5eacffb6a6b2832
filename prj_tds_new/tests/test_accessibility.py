"""Accessibility (issue 17, item 7): every user page passes axe-core (no serious or critical
violation) at desktop width and at 375 px, the main actions are reachable with the
keyboard alone with a visible focus indicator, and status is never told by colour alone.

Real parts: uvicorn (ASGI) on the test database, Debian's chromium through Playwright,
axe-core 4.x (shipped by the `axe-playwright-python` package) run inside each page.
"""

import contextlib
import time
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve, reverse

from tds_testing import factories
from tds_testing.a11y import (
    RequestTracker,
    axe_violations,
    blocking,
    colour_only,
    focused,
    make_showcase,
    report,
    tab_to,
)
from tds_testing.browser import CHROMIUM, sign_in
from tds_testing.uvicorn import serving_test_database

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]

VIEWPORTS = {"desktop": (1366, 900), "phone": (375, 812)}
# Linked from the pages but not pages themselves (downloads; "home" redirects).
NOT_PAGES = {
    "home",
    "certificados:download",
    "faturamento:demonstrativo_pdf",
    "faturamento:planilha_xlsx",
    "telemetria:csv_dispositivo",
    "telemetria:csv_gateway",
}


@pytest.fixture
def showcase(transactional_db, tmp_path, settings):
    """The account with content on every page (tds_testing.a11y.make_showcase), with a
    platform CA of its own; the storage tables are emptied afterwards (Django's flush
    does not know them)."""
    settings.TDS_PKI_DIR = tmp_path / "pki"
    settings.TDS_MOSQUITTO_DIR = settings.TDS_MOSQUITTO_PID_FILE = ""
    settings.TDS_MOSQUITTO_RELOAD_CMD = ""
    settings.TDS_NOTIFY_ENQUEUE = False
    call_command("pki_init", verbosity=0)
    yield make_showcase()
    from tds_testing.readings import truncate_storage

    truncate_storage()


@pytest.fixture
def server(showcase, tmp_path):
    with serving_test_database(TDS_PKI_DIR=str(tmp_path / "pki"), TDS_NOTIFY_ENQUEUE="off") as url:
        yield url


def _login(page, base, email):
    page.goto(base + reverse("login"))
    sign_in(page, email)
    page.wait_for_load_state()
    assert "/entrar/" not in page.url, page.inner_text("main")


def _links(page) -> set[str]:
    """The view names of the site's pages this page links to."""
    names = set()
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
        url = urlsplit(href)
        if url.netloc != urlsplit(page.url).netloc:
            continue
        with contextlib.suppress(Resolver404):
            names.add(resolve(url.path).view_name)
    return names


TIMES = {"load": 0.0, "axe": 0.0}


def _record(page, name, found, seen):
    violations = axe_violations(page)
    seen.append(report(name, violations))
    if blocking(violations):
        found.append(report(name, blocking(violations)))


def _check(page, tracker, base, name, path, found, seen, linked=None):
    started = time.monotonic()
    page.goto(base + path)
    tracker.wait_quiet()
    TIMES["load"] += time.monotonic() - started
    if linked is not None:
        linked |= _links(page)
    assert page.url.startswith(base + path.split("?")[0]), f"{name}: redirected to {page.url}"
    started = time.monotonic()
    violations = axe_violations(page)
    TIMES["axe"] += time.monotonic() - started
    seen.append(report(name, violations))
    if blocking(violations):
        found.append(report(f"{name} ({path})", blocking(violations)))
    for html in colour_only(page):
        found.append(f"{name} ({path}): status by colour alone or chart not read: {html}")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_page_passes_axe(width, showcase, server, browser, capsys):
    w, h = VIEWPORTS[width]
    found, seen = [], []
    TIMES.update(load=0.0, axe=0.0)
    context = browser.new_context(viewport={"width": w, "height": h}, locale="pt-BR")
    page = context.new_page()
    tracker = RequestTracker(page)
    for name, path in showcase.anonymous_pages:
        _check(page, tracker, server, name, path, found, seen)

    _login(page, server, showcase.admin_email)
    linked = set()
    for name, path in showcase.pages:
        _check(page, tracker, server, name, path, found, seen, linked)
    # Forms showing their errors: a gateway and an alarm rule sent empty.
    for name, url_name in (("novo gateway com erros", "dispositivos:gateway_create"),
                           ("nova regra com erros", "alarmes:regra_create")):  # fmt: skip
        page.goto(server + reverse(url_name))
        page.locator("main form [type=submit]").first.click()
        page.locator("main .is-invalid").first.wait_for()
        tracker.wait_quiet()
        _record(page, name, found, seen)

    # The menus open: the phone's sidebar and the account menu.
    page.goto(server + reverse("telemetria:dashboard"))
    tracker.wait_quiet()
    if width == "phone":
        page.click(".navbar-toggler")
        page.locator("#tds-sidebar.show").wait_for()
    page.click("#user-menu")
    page.locator("#user-menu + .dropdown-menu.show").wait_for()
    tracker.wait_quiet()
    _record(page, "menus abertos", found, seen)
    context.close()

    resident = browser.new_context(viewport={"width": w, "height": h}, locale="pt-BR")
    page = resident.new_page()
    tracker = RequestTracker(page)
    _login(page, server, showcase.morador_email)
    for name, path in showcase.resident_pages:
        _check(page, tracker, server, name, path, found, seen)
    resident.close()

    with capsys.disabled():
        pages = len(showcase.pages) + len(showcase.anonymous_pages) + len(showcase.resident_pages)
        print(
            f"\naxe ({width}): {pages} pages checked; loading {TIMES['load']:.1f} s,"
            f" axe {TIMES['axe']:.1f} s"
        )
        minor = "\n".join(s for s in seen if s)
        if minor:
            print("moderate/minor findings (not failing):\n" + minor)
    assert not found, "serious or critical axe violations:\n" + "\n".join(found)
    # Every page a user can reach by a link is checked: a new page joins the list
    # (tds_testing.a11y.make_showcase) or, when it is a download, NOT_PAGES.
    visited = {resolve(path.split("?")[0]).view_name for _, path in showcase.pages}
    missing = linked - visited - NOT_PAGES
    assert not missing, f"pages linked but not checked by axe: {sorted(missing)}"


def _shows_focus(path):
    hidden = [f for f in path if f is not None and not f["visible"]]
    assert not hidden, f"focused without a visible indicator: {hidden}"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_main_actions_by_keyboard_alone(width, showcase, server, browser):
    """Log in, open the menus, reach the alarm and acknowledge it with Tab, Enter and the
    arrow keys only; every element focused on the way shows a focus indicator."""
    w, h = VIEWPORTS[width]
    page = browser.new_context(viewport={"width": w, "height": h}, locale="pt-BR").new_page()
    tracker = RequestTracker(page)
    page.goto(server + reverse("login"))

    # The e-mail field has the focus on arrival (autofocus); Tab goes on to the password.
    assert focused(page)["id"] == "id_username"
    page.keyboard.type(showcase.admin_email)
    path = tab_to(page, "#id_password")
    page.keyboard.type(factories.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/telemetria/")
    tracker.wait_quiet()

    # The first Tab shows the skip link, on screen; Enter moves the focus to the content.
    page.keyboard.press("Tab")
    assert focused(page)["href"] == "#conteudo"
    box = page.locator(".tds-skip-link").bounding_box()
    assert box["y"] >= 0
    assert box["height"] > 0
    path.append(focused(page))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "conteudo"

    # The account menu opens with Enter, its items with the arrow keys, Escape closes it.
    page.keyboard.press("Shift+Tab")  # back to the top of the page
    path += tab_to(page, "#user-menu")
    page.keyboard.press("Enter")
    page.locator("#user-menu + .dropdown-menu.show").wait_for()
    page.keyboard.press("ArrowDown")
    assert focused(page)["text"] == "Alterar senha"
    path.append(focused(page))
    page.keyboard.press("Escape")
    page.locator("#user-menu + .dropdown-menu.show").wait_for(state="detached")

    # The menu: on a phone the toggler opens it first.
    if width == "phone":
        path += tab_to(page, ".navbar-toggler")
        page.keyboard.press("Enter")
        page.locator("#tds-sidebar.show").wait_for()
        assert page.get_attribute(".navbar-toggler", "aria-expanded") == "true"
    path += tab_to(page, "#tds-sidebar a[href='/alarmes/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/alarmes/")
    tracker.wait_quiet()

    # The alarm: its page, then Reconhecer.
    path += tab_to(page, f"main a[href='/alarmes/{showcase.alarme_id}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/alarmes/{showcase.alarme_id}/")
    tracker.wait_quiet()
    path += tab_to(page, "[data-testid=ack]")
    page.keyboard.press("Enter")
    page.locator("[data-testid=alarm-state]", has_text="reconhecido").wait_for()
    _shows_focus(path)


def test_status_is_told_in_words(showcase, server, browser):
    """Gateway online/offline, alarm state and severity, certificate and notification
    target status: each carries its words, not only a colour."""
    page = browser.new_context(viewport={"width": 375, "height": 812}, locale="pt-BR").new_page()
    tracker = RequestTracker(page)
    _login(page, server, showcase.admin_email)

    def texts(selector):
        return [t.strip() for t in page.locator(selector).all_inner_texts()]

    page.goto(server + reverse("dispositivos:gateway_list"))
    tracker.wait_quiet()
    rows = texts("[data-testid=gateway-row]")
    assert any("Online" in r for r in rows), rows
    assert any("Offline" in r for r in rows), rows
    page.goto(server + reverse("telemetria:dashboard"))
    tracker.wait_quiet()
    assert sorted(texts("#gateways-body .gw-status-text")) == ["offline", "online"]
    page.goto(server + reverse("alarmes:list"))
    tracker.wait_quiet()
    (row,) = texts("[data-testid=alarm-row]")
    assert {"ativo", "crítico"} <= set(row.lower().split()), row
    page.goto(server + reverse("certificados:index"))
    tracker.wait_quiet()
    assert texts("[data-testid=cert-row] [data-testid=cert-status]") == ["válido"]
    page.goto(server + reverse("notificacoes:destino_list"))
    tracker.wait_quiet()
    targets = " | ".join(texts("main table tbody tr"))
    for word in ("Zeladoria", "ok", "falhando"):
        assert word in targets, targets
    assert colour_only(page) == []


def test_wide_tables_scroll_by_keyboard_under_the_csp(showcase, server, browser):
    """Between a phone (where tables stack, tds-stack) and a desktop, at 600 px, a table
    wider than the screen becomes a named, focusable region (the arrow keys scroll it),
    under the site's real Content-Security-Policy; at desktop width the same table fits
    and is no Tab stop."""
    context = browser.new_context(
        viewport={"width": 600, "height": 900}, locale="pt-BR", bypass_csp=False
    )
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _login(page, server, showcase.admin_email)
    page.goto(server + showcase.wide_table_page)
    region = page.locator(".table-responsive[tabindex='0'][role=region]").first
    region.wait_for()
    assert region.get_attribute("aria-label").startswith("Tabela")
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 5  # the scroll is animated
    while region.evaluate("el => el.scrollLeft") == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert region.evaluate("el => el.scrollLeft") > 0
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator(".table-responsive[tabindex]").first.wait_for(state="detached")
    assert [p for p in problems if "Failed to load resource" not in p] == []
    context.close()
