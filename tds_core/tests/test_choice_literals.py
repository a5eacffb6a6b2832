"""States are compared by their choices, never by the stored string: a page or a service
spelling "FECHADO" or 'ativo' breaks silently when a value is renamed, and nothing
finds it."""

import ast
import re
from pathlib import Path

from alarmes.models import EstadoAlarme
from certificados.models import Status as StatusCertificado
from faturamento.models import Situacao, StatusGeracao, StatusPeriodo
from notificacoes.models import EstadoEnvio, EstadoNotificacao, ResultadoTentativa

ROOT = Path(__file__).resolve().parents[2]
STATES = (
    StatusPeriodo, Situacao, StatusGeracao, EstadoAlarme, EstadoEnvio, ResultadoTentativa,
    EstadoNotificacao, StatusCertificado,
)  # fmt: skip
VALUES = {str(v): f"{c.__qualname__}.{c(v).name}" for c in STATES for v in c.values}
APPS = ("faturamento", "alarmes", "notificacoes", "certificados", "dispositivos", "templates")
TEMPLATE_COMPARISON = re.compile(r"""(?:==|!=|\bin)\s*(['"])([^'"]+)\1""")


def _sources(suffixes):
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*")):
            parts = path.relative_to(ROOT).parts
            if path.suffix in suffixes and "tests" not in parts and "migrations" not in parts:
                yield path


def _literals(node):
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def test_templates_compare_states_by_their_choices():
    wrong = []
    for path in _sources({".html", ".txt"}):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in TEMPLATE_COMPARISON.finditer(line):
                if m.group(2) in VALUES:
                    wrong.append(
                        f"{path.relative_to(ROOT)}:{n}: {m.group(0)} -> {VALUES[m.group(2)]}"
                    )
    assert not wrong, "\n".join(wrong)


def test_code_compares_states_by_their_choices():
    wrong = []
    for path in _sources({".py"}):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
            elif isinstance(node, ast.keyword) and node.arg in ("status", "situacao", "estado"):
                sides = [node.value]
            else:
                continue
            for side in sides:
                for value in _literals(side):
                    if value in VALUES:
                        where = f"{path.relative_to(ROOT)}:{node.value.lineno if isinstance(node, ast.keyword) else node.lineno}"
                        wrong.append(f"{where}: {value!r} -> {VALUES[value]}")
    assert not wrong, "\n".join(wrong)
