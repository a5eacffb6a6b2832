"""Every tunable is declared once, in settings, from the environment, and documented in
the README's configuration table; app code reads `settings.X`, never the environment or
`getattr(settings, "X", default)`."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "contas", "dispositivos", "telemetria", "ingestao", "certificados", "apitokens", "tds_core",
    "unidades", "faturamento", "alarmes", "notificacoes",
]  # fmt: skip


def test_every_environment_variable_of_the_settings_is_in_the_readme():
    settings_py = (ROOT / "prj_tds_new" / "settings.py").read_text()
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings_py))
    assert "DATABASE_URL" in names  # the pattern finds them
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Production deployment")]
    missing = sorted(n for n in names if f"`{n}`" not in table)
    assert not missing, f"not in the README's configuration table: {missing}"


def test_app_code_reads_settings_only():
    wrong = []
    pattern = re.compile(r"os\.environ|os\.getenv|getattr\(settings,")
    for app in [*APPS, "prj_tds_new"]:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "tests" in rel.parts or rel.name in (
                "settings.py",
                "settings_test.py",
                "asgi.py",
                "wsgi.py",
            ):
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line) and "DJANGO_SETTINGS_MODULE" not in line:
                    wrong.append(f"{rel}:{lineno}: {line.strip()}")
    assert not wrong, "\n".join(wrong)
