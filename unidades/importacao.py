"""Bulk import of units from a CSV or Excel (.xlsx) sheet.

The first row names the columns (any order, case and accents ignored): bloco, numero,
fracao_ideal, responsavel, email. Decimal comma or point. A unit already there (same
bloco and número) is updated. All or nothing: when any row has an error, nothing is
saved and every row's errors are reported ("Linha 4: ...").
"""

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from decimal import InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contas.models import Conta
from tds_core.numbers import parse_decimal

from . import services
from .models import Unidade

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = {
    "bloco": "bloco",
    "numero": "numero",
    "unidade": "numero",
    "fracao_ideal": "fracao_ideal",
    "fracao": "fracao_ideal",
    "responsavel": "responsavel",
    "email": "email",
    "e-mail": "email",
}


class UnreadableFile(Exception):
    """The file as a whole cannot be read (message in pt-BR)."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _key(text) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return text.strip().lower().replace(" ", "_")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_from_csv(data: bytes) -> list[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # Excel's "CSV" on Windows in pt-BR
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t") if text.strip() else csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _rows_from_xlsx(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not xlsx
        raise UnreadableFile(_("Não foi possível ler a planilha Excel (.xlsx).")) from exc
    sheet = wb.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    wb.close()
    return rows


def read_rows(*, filename: str, data: bytes) -> list[list]:
    if len(data) > MAX_BYTES:
        raise UnreadableFile(_("Arquivo grande demais (máximo 5 MB)."))
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return _rows_from_xlsx(data)
    if name.endswith((".csv", ".txt")):
        return _rows_from_csv(data)
    raise UnreadableFile(_("Envie um arquivo .csv ou .xlsx."))


def unidades_import(*, conta: Conta, filename: str, data: bytes) -> ImportResult:
    result = ImportResult()
    try:
        rows = read_rows(filename=filename, data=data)
    except UnreadableFile as exc:
        result.errors.append(str(exc))
        return result
    rows = [r for r in rows if any(_text(v) for v in r)]
    if not rows:
        result.errors.append(_("O arquivo está vazio."))
        return result
    header = [COLUMNS.get(_key(h)) for h in rows[0]]
    missing = [c for c in ("numero", "fracao_ideal") if c not in header]
    if missing:
        result.errors.append(
            _(
                "Faltam as colunas: %(cols)s. A primeira linha deve nomear as colunas "
                "bloco, numero, fracao_ideal, responsavel, email."
            )
            % {"cols": ", ".join(missing)}
        )
        return result
    if len(rows) - 1 > MAX_ROWS:
        result.errors.append(_("Mais de %(n)d linhas.") % {"n": MAX_ROWS})
        return result
    labels = {f.name: str(f.verbose_name) for f in Unidade._meta.fields}
    with transaction.atomic():
        existing_units = {(u.bloco, u.numero): u for u in Unidade.objects.filter(conta=conta)}
        seen = set()
        for line, raw in enumerate(rows[1:], start=2):
            values = {col: raw[i] for i, col in enumerate(header) if col and i < len(raw)}
            data_row = {
                c: _text(values.get(c)) for c in ("bloco", "numero", "responsavel", "email")
            }
            try:
                data_row["fracao_ideal"] = parse_decimal(values.get("fracao_ideal"))
            except (InvalidOperation, ValueError):
                result.errors.append(
                    _("Linha %(n)d: fração ideal inválida (%(v)s).")
                    % {"n": line, "v": _text(values.get("fracao_ideal")) or _("vazia")}
                )
                continue
            key = (data_row["bloco"], data_row["numero"])
            if key in seen:
                result.errors.append(_("Linha %(n)d: unidade repetida no arquivo.") % {"n": line})
                continue
            seen.add(key)
            existing = existing_units.get(key)
            try:
                if existing:
                    services.unidade_update(unidade=existing, **data_row)
                    result.updated += 1
                else:
                    services.unidade_create(conta=conta, **data_row)
                    result.created += 1
            except ValidationError as exc:
                for fname, errs in exc.message_dict.items():
                    for msg in errs:
                        result.errors.append(
                            _("Linha %(n)d: %(campo)s: %(msg)s")
                            % {"n": line, "campo": labels.get(fname, fname), "msg": msg}
                        )
        if result.errors:
            transaction.set_rollback(True)
            result.created = result.updated = 0
    return result
