"""Every translated string is a literal in its translation call: makemessages (xgettext)
reads the source and finds only literals; `_(variable)` leaves its text out of the
catalogue, untranslated whatever the .po says."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# name -> how many leading arguments are message text (context and plural forms included)
CALLS = {
    "_": 1, "gettext": 1, "gettext_lazy": 1, "gettext_noop": 1,
    "ngettext": 2, "ngettext_lazy": 2, "pgettext": 2, "pgettext_lazy": 2,
    "npgettext": 3, "npgettext_lazy": 3,
}  # fmt: skip


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if not {".venv", "tests", "migrations", "node_modules"} & set(parts):
            yield path


def test_translation_calls_take_literals():
    wrong = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in CALLS:
                continue
            texts = node.args[: CALLS[name]]
            if len(texts) < CALLS[name] or not all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not wrong, "\n".join(wrong)
