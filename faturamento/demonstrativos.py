"""Statements of a closed period: the per-unit A4 PDF (reportlab) and the condominium's
Excel workbook (openpyxl). Data is gathered once per period for all units (one storage
query for the 13 periods of history), then each document is rendered from memory."""

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from unidades.models import Unidade

from . import selectors
from .calendario import add_months
from .models import Cobranca, Fatura, Periodo, Situacao, Utilidade
from .rateio import brl, qty

HISTORY = 13  # this period and the 12 before it: the chart and "same month last year"


@dataclass
class Demonstrativo:
    periodo: Periodo
    unidade: Unidade
    cobrancas: list[Cobranca]
    historico: dict[str, dict[date, Decimal]]  # tipo -> {period start: consumption}
    total: Decimal = Decimal(0)
    faturas: dict[str, Fatura] = field(default_factory=dict)

    def comparacao(self, tipo: str, consumo: Decimal | None):
        """(previous period, same period a year before) consumptions, None when unknown."""
        hist = self.historico.get(tipo, {})
        prev = hist.get(add_months(self.periodo.inicio, -1))
        year = hist.get(add_months(self.periodo.inicio, -12))
        return prev, year


def demonstrativos_do_periodo(
    *, periodo: Periodo, unidade: Unidade | None = None
) -> list[Demonstrativo]:
    """Every unit's statement data of a closed period (or only `unidade`'s, reading only
    its meters' history)."""
    cobrancas = selectors.cobrancas_of_periodo(periodo=periodo, unidade=unidade)
    historico = selectors.historico_unidades(
        conta=periodo.conta, inicio=periodo.inicio, periodos=HISTORY, unidade=unidade
    )
    faturas = {f.tipo: f for f in selectors.faturas_of_periodo(periodo=periodo)}
    by_unit: dict[int, Demonstrativo] = {}
    for c in cobrancas:
        d = by_unit.get(c.unidade_id)
        if d is None:
            hist = {t: dict(historico.get((c.unidade_id, t), {})) for t in Utilidade.values}
            d = by_unit[c.unidade_id] = Demonstrativo(periodo, c.unidade, [], hist, faturas=faturas)
        d.cobrancas.append(c)
        d.total += c.valor
        if c.consumo is not None:  # the period's own figure is the closed one
            d.historico[c.tipo][periodo.inicio] = c.consumo
    return list(by_unit.values())


def _pct(now: Decimal | None, before: Decimal | None) -> str:
    if now is None or before is None:
        return "—"
    if before == 0:
        return qty(now - before, "", 3)
    return number_format((now - before) * 100 / before, 1) + " %"


# ---- PDF ----------------------------------------------------------------------------------


def _styles():
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    return {
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontSize=15, spaceAfter=2),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontSize=11.5, spaceBefore=8, spaceAfter=3
        ),
        "p": ParagraphStyle("p", parent=base["BodyText"], fontSize=9, leading=11.5),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=7.5, leading=9.5),
    }


_STYLES = None


def _calculo(hist: dict[date, Decimal], periodo: Periodo, unidade_medida: str, linhas: list[str]):
    """One utility's block: the last 12 periods as small bars (this one highlighted) and,
    beside them, the computation lines. Drawn straight on the canvas (lines wrapped with
    reportlab's simpleSplit): chart widgets and Paragraphs in a Table cost ~80 ms a
    statement (measured), which a 500-unit job cannot afford."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.platypus import Flowable

    starts = [add_months(periodo.inicio, -k) for k in range(11, -1, -1)]
    values = [hist.get(s, Decimal(0)) for s in starts]
    title = _("Últimos 12 meses (%(u)s)") % {"u": unidade_medida}
    top = max(values) or Decimal(1)
    text_x, text_w, leading, size = 94 * mm, 84 * mm, 9.2, 7.4
    wrapped = [part for line in linhas for part in simpleSplit(line, "Helvetica", size, text_w)]

    class Calculo(Flowable):
        def wrap(self, available_width, available_height):
            self.width, self.height = 178 * mm, max(95, len(wrapped) * leading + 4)
            return self.width, self.height

        def draw(self):
            c = self.canv
            x0, w, h = 26, 218, 62
            y0 = self.height - 95 + 16
            c.setFont("Helvetica", 7)
            c.drawString(x0, y0 + h + 10, title)
            c.setFont("Helvetica", 5.5)
            c.setStrokeColor(colors.HexColor("#adb5bd"))
            c.line(x0, y0, x0 + w, y0)
            c.drawRightString(x0 - 3, y0 + h - 2, number_format(top, 1 if top < 10 else 0))
            c.drawRightString(x0 - 3, y0 - 2, "0")
            step = w / 12
            for i, (start, value) in enumerate(zip(starts, values, strict=True)):
                bar = float(value / top) * h
                c.setFillColor(colors.HexColor("#fd7e14" if i == 11 else "#0d6efd"))
                c.rect(x0 + i * step + 2, y0, step - 4, bar, stroke=0, fill=1)
                c.setFillColor(colors.black)
                c.drawCentredString(x0 + i * step + step / 2, y0 - 8, start.strftime("%m/%y"))
            text = c.beginText(text_x, self.height - size)
            text.setFont("Helvetica", size, leading)
            for line in wrapped:
                text.textLine(line)
            c.drawText(text)

    return Calculo()


def pdf_demonstrativo(d: Demonstrativo) -> bytes:
    """The unit's A4 statement in pt-BR: header, summary table, one block per utility
    (12-month bars and the computation lines), footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    global _STYLES
    st = _STYLES = _STYLES or _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
        bottomMargin=14 * mm, title=_("Demonstrativo %(u)s") % {"u": d.unidade.rotulo},
        author="TDS New",
    )  # fmt: skip
    doc.build([*_cabecalho(d, st), *_resumo(d, st), *_blocos(d, st), *_rodape(st)])
    return buf.getvalue()


def _cabecalho(d: Demonstrativo, st) -> list:
    from reportlab.platypus import Paragraph

    p = d.periodo
    story = [
        Paragraph(_("Demonstrativo de consumo e rateio"), st["h1"]),
        Paragraph(
            _("%(conta)s · Unidade <b>%(u)s</b> · Responsável: %(r)s")
            % {
                "conta": _esc(str(p.conta)),
                "u": _esc(d.unidade.rotulo),
                "r": _esc(d.unidade.responsavel or "—"),
            },
            st["p"],
        ),
        Paragraph(
            _("Referência %(ref)s (versão %(v)d): de %(ini)s a %(fim)s · Fração ideal %(f)s")
            % {
                "ref": date_format(p.referencia, "F/Y"),
                "v": p.versao,
                "ini": date_format(p.inicio, "SHORT_DATE_FORMAT"),
                "fim": date_format(p.ultimo_dia, "SHORT_DATE_FORMAT"),
                "f": number_format(d.unidade.fracao_ideal, 8),
            },
            st["p"],
        ),
    ]
    if p.versao > 1 and p.motivo:
        story.append(Paragraph(_("Correção: %(m)s") % {"m": _esc(p.motivo)}, st["small"]))
    return story


def _resumo(d: Demonstrativo, st) -> list:
    """Consumption, comparisons and charge per utility, and the total."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    rows = [[_("Utilidade"), _("Consumo"), _("Mês anterior"), _("Mesmo mês do ano anterior"),
             _("Valor")]]  # fmt: skip
    for c in d.cobrancas:
        um = selectors.unidade_medida(c.tipo)
        prev, year = d.comparacao(c.tipo, c.consumo)
        consumo = "—" if c.consumo is None else qty(c.consumo, um) + (" *" if c.estimado else "")
        rows.append([
            c.get_tipo_display(), consumo,
            "—" if prev is None else f"{qty(prev, um)} ({_pct(c.consumo, prev)})",
            "—" if year is None else f"{qty(year, um)} ({_pct(c.consumo, year)})",
            brl(c.valor),
        ])  # fmt: skip
    rows.append([_("Total a pagar"), "", "", "", brl(d.total)])
    table = Table(rows, colWidths=[28 * mm, 32 * mm, 40 * mm, 45 * mm, 28 * mm])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
        ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 9.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]))  # fmt: skip
    story = [Spacer(1, 4), table]
    if any(c.estimado for c in d.cobrancas):
        note = _("* consumo estimado pela média da própria unidade (dados faltando).")
        story.append(Paragraph(note, st["small"]))
    return story


def _blocos(d: Demonstrativo, st) -> list:
    from reportlab.platypus import Paragraph

    story = []
    for c in d.cobrancas:
        um = selectors.unidade_medida(c.tipo)
        situacao = "" if c.situacao == Situacao.MEDIDO else f" — {c.get_situacao_display()}"
        story.append(Paragraph(f"{c.get_tipo_display()}: {brl(c.valor)}{situacao}", st["h2"]))
        story.append(_calculo(d.historico.get(c.tipo, {}), d.periodo, um, c.linhas))
        fatura = d.faturas.get(c.tipo)
        for alerta in (fatura.alertas if fatura else [])[:3]:
            story.append(Paragraph("! " + _esc(alerta), st["small"]))
    return story


def _rodape(st) -> list:
    from reportlab.platypus import Paragraph, Spacer

    text = _(
        "Gerado em %(quando)s pelo TDS New. Consumo medido pelos medidores da unidade; o "
        "período fechado não muda: correções geram nova versão."
    ) % {"quando": date_format(timezone.localtime(), "SHORT_DATETIME_FORMAT")}
    return [Spacer(1, 8), Paragraph(text, st["small"])]


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- Excel ------------------------------------------------------------------------------


def xlsx_periodo(*, periodo: Periodo) -> bytes:
    """The condominium's workbook: one sheet per utility, one row per unit, plus a summary."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    por_tipo = defaultdict(list)
    for c in selectors.cobrancas_of_periodo(periodo=periodo):
        por_tipo[c.tipo].append(c)
    faturas = selectors.faturas_of_periodo(periodo=periodo)
    header = [
        _("Bloco"), _("Número"), _("Fração ideal"), _("Responsável"), _("Consumo medido"),
        _("Consumo considerado"), _("Estimado"), _("Dados"), _("Parte individual (R$)"),
        _("Parte comum (R$)"), _("Valor (R$)"),
    ]  # fmt: skip
    for fatura in faturas:
        ws = wb.create_sheet(str(fatura.get_tipo_display()))
        um = selectors.unidade_medida(fatura.tipo)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for c in por_tipo[fatura.tipo]:
            ws.append([
                c.unidade.bloco, c.unidade.numero, c.unidade.fracao_ideal, c.unidade.responsavel,
                c.consumo_medido, c.consumo, _("sim") if c.estimado else _("não"),
                c.get_situacao_display(), round(c.valor_individual, 2), round(c.valor_comum, 2), c.valor,
            ])  # fmt: skip
            for cell in ws[ws.max_row][:4]:  # typed by people: never a formula
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        n = ws.max_row
        ws.append([_("Total"), "", "", "", f"=SUM(E2:E{n})", f"=SUM(F2:F{n})", "", "",
                   f"=SUM(I2:I{n})", f"=SUM(J2:J{n})", f"=SUM(K2:K{n})"])  # fmt: skip
        ws[ws.max_row][0].font = Font(bold=True)
        for row in ws.iter_rows(min_row=2):
            row[2].number_format = "0.00000000"
            for i in (4, 5):
                row[i].number_format = f'#,##0.000 "{um}"'
            for i in (8, 9, 10):
                row[i].number_format = '"R$" #,##0.00'
        for i, width in enumerate([8, 10, 14, 28, 18, 20, 10, 18, 20, 18, 14], start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "C2"
    resumo = wb.create_sheet(_("Resumo"))
    resumo.append([_("Período"), str(periodo), date_format(periodo.inicio, "SHORT_DATE_FORMAT"),
                   date_format(periodo.ultimo_dia, "SHORT_DATE_FORMAT")])  # fmt: skip
    resumo.append([_("Utilidade"), _("Valor da conta (R$)"), _("Consumo principal"),
                   _("Soma das unidades"), _("Consumo comum"), _("Parte comum (R$)"), _("Método"),
                   _("Alertas")])  # fmt: skip
    for f in faturas:
        resumo.append([f.get_tipo_display(), f.valor_total, f.consumo_principal, f.soma_unidades,
                       f.consumo_comum, round(f.valor_comum or 0, 2), f.get_metodo_comum_display(),
                       " | ".join(f.alertas)])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
