"""Imports point one way: an app imports only apps of lower layers (README, "Where things
are"); tds_core imports no app, and the wire contract not even Django."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. An app may import apps of the layers below its own, never its own
# layer's other apps nor a layer above.
LAYERS = [
    ["tds_core"],
    ["contas"],
    ["apitokens", "dispositivos"],
    ["telemetria", "unidades"],
    ["ingestao", "certificados", "faturamento"],
    ["alarmes"],
    ["notificacoes"],
]
LAYER_OF = {app: i for i, apps in enumerate(LAYERS) for app in apps}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def app_sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "tests" not in path.relative_to(ROOT).parts and "migrations" not in path.parts:
            yield path


def test_apps_import_only_lower_layers():
    wrong = []
    for app, layer in LAYER_OF.items():
        for path in app_sources(app):
            for lineno, module in imported_modules(path):
                top = module.split(".")[0]
                if top in LAYER_OF and top != app and LAYER_OF[top] >= layer:
                    wrong.append(f"{path.relative_to(ROOT)}:{lineno} imports {module}")
    assert not wrong, "imports pointing up or sideways:\n" + "\n".join(wrong)


def test_wire_contract_needs_no_django():
    modules = {m.split(".")[0] for _, m in imported_modules(ROOT / "tds_core" / "wire.py")}
    assert modules <= {"datetime", "json", "re", "decimal", "functools"}, modules


def test_every_installed_app_has_a_layer(settings):
    ours = {a for a in settings.INSTALLED_APPS if (ROOT / a).is_dir()}
    assert ours <= set(LAYER_OF), ours - set(LAYER_OF)


def test_tests_take_shared_helpers_from_tds_testing_not_conftest():
    """conftest.py holds fixtures; helpers that tests import live in tds_testing/."""
    wrong = []
    for path in sorted(ROOT.rglob("test_*.py")):
        if ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names if not node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.split(".")[-1] == "conftest" for n in names):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not wrong, wrong
