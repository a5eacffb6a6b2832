"""Billing-period dates: a closing day D (1–28) makes each period run from the D-th of its
reference month to the day before the D-th of the next month, in local days."""

from datetime import date


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def periodo_datas(*, referencia: date, dia_fechamento: int) -> tuple[date, date]:
    """(first day, day after the last) of the period of `referencia`'s month."""
    inicio = referencia.replace(day=dia_fechamento)
    return inicio, add_months(inicio, 1)


def referencia_de(*, dia: date, dia_fechamento: int) -> date:
    """The reference month (first day) of the period that holds the local day `dia`."""
    ref = dia.replace(day=1)
    return ref if dia.day >= dia_fechamento else add_months(ref, -1)


def limites(*, inicio: date, antes: int, depois: int = 1) -> list[date]:
    """Period boundaries from `antes` periods before `inicio` to `depois` periods after."""
    return [add_months(inicio, k) for k in range(-antes, depois + 1)]
