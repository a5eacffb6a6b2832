"""Accessibility test helpers: axe-core run in the page, and an account with something on
every page (the accessibility tests need content: an empty table has no headers to check).

axe-core comes from the `axe-playwright-python` package (PyPI), which ships axe.min.js
(MPL-2.0); it is injected into the page through Playwright's evaluate, so the browser
context must bypass the site's CSP (tds_testing.browser's default).
"""

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from contas.models import Role

from . import factories
from .readings import local
from .readings import store_points as store

# What the issue asks for: no serious or critical violation (axe's "moderate" and "minor"
# are reported by axe too, and printed, but do not fail the test).
BLOCKING = ("serious", "critical")
# WCAG 2.x A and AA plus axe's best practices (landmarks, one h1, heading order...).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (every impact)."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options=AXE_OPTIONS).response["violations"]


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in BLOCKING]


def report(where: str, violations: list[dict]) -> str:
    """One block per violation: rule, impact, help and each offending element."""
    lines = []
    for v in violations:
        lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    {target}\n        {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


# Status told by colour alone: a badge with no text, or a coloured dot that is not hidden
# from screen readers or has no text beside it; and a chart whose label is not read (a
# labelled canvas without role="img"). Returns the offending elements' HTML.
COLOUR_ONLY_JS = """() => {
  const bad = [];
  // A chart's label is read only when the canvas has an image role.
  for (const el of document.querySelectorAll('canvas[aria-label]:not([role=img])')) {
    bad.push(el.outerHTML.slice(0, 200));
  }
  for (const el of document.querySelectorAll('.badge, .status-dot, [class*="text-bg-"]')) {
    if (!el.getClientRects().length) continue;
    if (el.classList.contains('status-dot')) {
      if (el.getAttribute('aria-hidden') !== 'true' || !el.parentElement.innerText.trim()) {
        bad.push(el.parentElement.outerHTML.slice(0, 200));
      }
    } else if (!el.innerText.trim() && !el.getAttribute('aria-label')) {
      bad.push(el.outerHTML.slice(0, 200));
    }
  }
  return bad;
}"""


def colour_only(page) -> list[str]:
    """Badges and status dots on the page that tell their status by colour alone, and
    charts whose text alternative is not read."""
    return page.evaluate(COLOUR_ONLY_JS)


# Whether the focused element shows a focus indicator: an outline or a box-shadow ring.
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const ring = s.boxShadow && s.boxShadow !== 'none';
  return {
    tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').trim().slice(0, 60),
    href: el.getAttribute('href') || '', visible: outline || !!ring,
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUS_JS)


def tab_to(page, selector: str, *, limit: int = 80, key: str = "Tab") -> list[dict]:
    """Press Tab until the element matching `selector` has the focus; returns every element
    focused on the way (with whether its focus indicator was visible). Fails after `limit`
    presses."""
    path = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        path.append(now)
        if page.evaluate("(sel) => document.activeElement.matches(sel)", selector):
            return path
    raise AssertionError(f"{selector} not reached with {limit} × {key}: {path[-10:]}")


class RequestTracker:
    """Counts the page's requests in flight (the live feed's long-lived stream excepted),
    to wait until what a page fills in by fetch (charts, lists) is drawn."""

    def __init__(self, page, *, ignore=("/eventos/",)):
        self.page = page
        self.ignore = ignore
        self.pending = set()
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, request):
        if not any(i in request.url for i in self.ignore):
            self.pending.add(request)

    def _end(self, request):
        self.pending.discard(request)

    def wait_quiet(self, *, quiet_ms: int = 250, timeout: float = 15) -> None:
        self.page.wait_for_load_state("load")
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
                return
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"requests still in flight: {[r.url for r in self.pending]}")


@dataclass
class Showcase:
    """The account of `make_showcase` and the pages to visit (name, path)."""

    admin_email: str
    morador_email: str
    pages: list[tuple[str, str]] = field(default_factory=list)
    resident_pages: list[tuple[str, str]] = field(default_factory=list)
    anonymous_pages: list[tuple[str, str]] = field(default_factory=list)
    alarme_id: int = 0
    wide_table_page: str = ""  # a page whose table is wider than 600 px


def make_showcase(*, pki_ready: bool = True) -> Showcase:
    """An account like the demo's, with content on every page: two gateways (one online,
    one offline), four meters with a day of hourly readings, a unit with its meter, a
    closed billing period (a statement), an alarm rule with an open alarm, a notification
    target with its queued notification and a failing one, a certificate (valid), an API token, a second
    member and a pending invite, a resident, a dead letter.

    `pki_ready`: the platform CA exists (certificados' pki_init has run)."""
    from django.urls import reverse

    from alarmes import services as alarmes
    from apitokens import services as apitokens
    from certificados import services as certificados
    from contas.models import ContaMembership
    from dispositivos.models import Gateway
    from faturamento import services as faturamento
    from ingestao import services as ingestao
    from notificacoes import services as notificacoes
    from notificacoes.models import DestinoNotificacao
    from unidades import services as unidades

    conta = factories.make_conta(nome="Condomínio Acessível")
    admin = factories.make_member(conta=conta, role=Role.ADMIN).user
    operador = factories.make_member(conta=conta, role=Role.OPERADOR)
    ContaMembership.objects.create(  # a pending invite
        conta=conta, user=factories.make_user(), role=Role.LEITOR, accepted_at=None
    )
    gw = factories.make_gateway(conta=conta, codigo="GW-01", nome="Bloco A")
    offline = factories.make_gateway(conta=conta, codigo="GW-02", nome="Bloco B")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    Gateway.objects.filter(pk=gw.pk).update(is_online=True, last_seen=now)
    Gateway.objects.filter(pk=offline.pk).update(
        is_online=False, last_seen=now - dt.timedelta(days=2)
    )
    energia = factories.make_dispositivo(
        gateway=gw, codigo="D01", tipo="ENERGIA", nome="Quadro geral"
    )
    agua = factories.make_dispositivo(gateway=gw, codigo="D02", tipo="AGUA", nome="Hidrômetro 101")
    gas = factories.make_dispositivo(gateway=gw, codigo="D03", tipo="GAS", nome="Medidor de gás")
    temp = factories.make_dispositivo(gateway=gw, codigo="D04", tipo="TEMP", nome="Freezer")
    hours = [now - dt.timedelta(hours=h) for h in range(24, -1, -1)]
    store(energia, [(t, 1000 + i * 2.5) for i, t in enumerate(hours)])
    store(agua, [(t, 500 + i * 0.125) for i, t in enumerate(hours)])
    store(gas, [(t, 80 + i * 0.05) for i, t in enumerate(hours)])
    store(temp, [(t, 21 + (i % 5)) for i, t in enumerate(hours)])

    # Billing: unit 101 measured by a water meter; the October 2026 period closed.
    faturamento.config_update(conta=conta, dia_fechamento=10, perda_limite_pct=Decimal(15))
    u101 = factories.make_unidade(conta=conta, bloco="A", numero="101", fracao_ideal="0.6",
                                  responsavel="Ana Souza", email="ana@example.com")  # fmt: skip
    u102 = factories.make_unidade(conta=conta, bloco="A", numero="102", fracao_ideal="0.4")
    m101 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u101, codigo="M101")
    m102 = factories.make_medidor(gateway=gw, papel="UNIDADE", unidade=u102, codigo="M102")
    principal = factories.make_medidor(gateway=gw, papel="PRINCIPAL", codigo="MPRI")
    store(m101, [(local(2026, 10, 9, 12), 100), (local(2026, 11, 9, 20), 120)])
    store(m102, [(local(2026, 10, 9, 12), 50), (local(2026, 11, 9, 20), 65)])
    store(principal, [(local(2026, 10, 9, 12), 5000), (local(2026, 11, 9, 20), 5040)])
    periodo = faturamento.periodo_abrir(conta=conta, referencia=dt.date(2026, 10, 1))
    faturamento.fatura_salvar(periodo=periodo, tipo="AGUA", valor_total=Decimal("400.00"),
                              modo="PRECO_FIXO", preco_unitario=Decimal("10.00"))  # fmt: skip
    faturamento.periodo_fechar(periodo=periodo, user=admin, hoje=dt.date(2026, 11, 10))
    morador = factories.make_member(conta=conta, role=Role.MORADOR)
    unidades.morador_link(membership=morador, unidade=u101)

    # Alarms and notifications: a rule on the freezer, a target, an open alarm.
    regra = alarmes.regra_create(conta=conta, nome="Freezer quente", tipo="limite",
                                 severidade="critico", dispositivo=temp,
                                 limite_superior=Decimal(-10))  # fmt: skip
    destino = notificacoes.destino_create(
        conta=conta, nome="Zeladoria", tipo="email", email="zeladoria@example.com"
    )
    falhando = notificacoes.destino_create(
        conta=conta, nome="Integração", tipo="webhook", webhook_url="https://hooks.example.com/tds"
    )
    DestinoNotificacao.objects.filter(pk=falhando.pk).update(
        falhando_desde=now, ultimo_erro="HTTP 500 do servidor de destino"
    )
    alarme = alarmes.alarm_fire(regra=regra, gateway_id=gw.pk, dispositivo_id=temp.pk,
                                inicio=now - dt.timedelta(minutes=30), valor=Decimal(25))  # fmt: skip

    # Certificate, token, dead letter.
    cert = None
    if pki_ready:
        cert = certificados.certificado_issue(gateway=gw, issued_by=admin).certificado
    token, _raw = apitokens.api_token_create(conta=conta, nome="Integração BI", criado_por=admin)
    ingestao.rejeitadas_store(
        items=[
            {
                "recebida_em": timezone.now(),
                "topico": f"tds/{gw.mac}/telemetry",
                "payload": b'{"ts": "ontem"}',
                "motivo": "schema",
                "detalhe": "campo ts inválido",
                "gateway_id": gw.pk,
                "conta_id": conta.pk,
            }
        ]
    )
    from ingestao.models import MensagemRejeitada

    rejeitada = MensagemRejeitada.objects.get(conta_id=conta.pk)  # stored just above

    r = reverse
    pages = [
        ("painel", r("telemetria:dashboard")),
        ("painel do gateway", r("telemetria:gateway", args=[gw.pk])),
        ("leituras", r("telemetria:leituras")),
        ("gateways", r("dispositivos:gateway_list")),
        ("gateway", r("dispositivos:gateway_detail", args=[gw.pk])),
        ("gateway offline", r("dispositivos:gateway_detail", args=[offline.pk])),
        ("novo gateway", r("dispositivos:gateway_create")),
        ("editar gateway", r("dispositivos:gateway_update", args=[gw.pk])),
        ("excluir gateway", r("dispositivos:gateway_delete", args=[offline.pk])),
        ("novo dispositivo", r("dispositivos:dispositivo_create")),
        ("excluir dispositivo", r("dispositivos:dispositivo_delete", args=[gas.pk])),
        ("dispositivos", r("dispositivos:dispositivo_list")),
        ("dispositivo", r("dispositivos:dispositivo_detail", args=[energia.pk])),
        ("editar dispositivo", r("dispositivos:dispositivo_update", args=[energia.pk])),
        ("alarmes", r("alarmes:list")),
        ("alarme", r("alarmes:detail", args=[alarme.pk])),
        ("regras de alarme", r("alarmes:regra_list")),
        ("nova regra", r("alarmes:regra_create")),
        ("editar regra", r("alarmes:regra_update", args=[regra.pk])),
        ("excluir regra", r("alarmes:regra_delete", args=[regra.pk])),
        ("mensagens rejeitadas", r("ingestao:rejeitadas")),
        ("certificados", r("certificados:index")),
        ("emitir certificado", r("certificados:issue", args=[gw.pk])),
        ("unidades", r("unidades:unidade_list")),
        ("unidade", r("unidades:unidade_detail", args=[u101.pk])),
        ("nova unidade", r("unidades:unidade_create")),
        ("editar unidade", r("unidades:unidade_update", args=[u101.pk])),
        ("excluir unidade", r("unidades:unidade_delete", args=[u102.pk])),
        ("medidores", r("unidades:medicao_list")),
        ("importar unidades", r("unidades:unidade_import")),
        ("faturamento", r("faturamento:index")),
        ("período fechado", r("faturamento:periodo_detail", args=[periodo.pk])),
        ("balanço hídrico", r("faturamento:balanco")),
        ("notificações", r("notificacoes:destino_list")),
        ("destino", r("notificacoes:destino_detail", args=[destino.pk])),
        ("novo destino", r("notificacoes:destino_create")),
        ("editar destino", r("notificacoes:destino_edit", args=[destino.pk])),
        ("excluir destino", r("notificacoes:destino_delete", args=[falhando.pk])),
        ("preferências", r("notificacoes:preferencias")),
        ("entregas do alarme", r("notificacoes:entregas_alarme", args=[alarme.pk])),
        ("membros", r("contas:member_list")),
        ("preços", r("contas:prices")),
        ("novo membro", r("contas:member_add")),
        ("editar membro", r("contas:member_update", args=[operador.pk])),
        ("remover membro", r("contas:member_remove", args=[operador.pk])),
        ("tokens de API", r("apitokens:list")),
        ("revogar token", r("apitokens:revoke", args=[token.pk])),
        ("alterar senha", r("password_change")),
        ("senha alterada", r("password_change_done")),
        ("convites", r("contas:convites")),
        ("mensagem rejeitada", r("ingestao:rejeitada_detail", args=[rejeitada.pk])),
    ]
    if cert is not None:
        pages.append(("certificado", r("certificados:detail", args=[cert.pk])))
        pages.append(("certificado emitido", r("certificados:issued", args=[cert.pk])))
        revoke = r("certificados:revoke", args=[cert.pk]) + "?reason=superseded"
        pages.append(("revogar certificado", revoke))
    return Showcase(
        admin_email=admin.email,
        morador_email=morador.user.email,
        pages=pages,
        resident_pages=[("minha unidade", r("faturamento:minha_unidade"))],
        anonymous_pages=[
            ("entrar", r("login")),
            ("recuperar senha", r("password_reset")),
            ("e-mail de recuperação enviado", r("password_reset_done")),
            ("senha redefinida", r("password_reset_complete")),
        ],
        alarme_id=alarme.pk,
        wide_table_page=r("faturamento:periodo_detail", args=[periodo.pk]),
    )
