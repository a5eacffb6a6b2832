"""pt-BR numbers as typed in forms and imported files."""

from decimal import Decimal, InvalidOperation

import pytest

from tds_core.numbers import parse_decimal


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("4,50", Decimal("4.50")),
        ("0,125", Decimal("0.125")),
        ("0.125", Decimal("0.125")),
        (" 1 234,5 ", Decimal("1234.5")),
        ("1\u00a0234,5", Decimal("1234.5")),
        ("-3,2", Decimal("-3.2")),
        ("10", Decimal(10)),
        (0.25, Decimal("0.25")),
        (7, Decimal(7)),
    ],
)
def test_parses_what_people_type(typed, value):
    assert parse_decimal(typed) == value


@pytest.mark.parametrize("typed", ["", None, "abc", "1,2,3", "NaN", "Infinity", "-inf", True])
def test_refuses_what_is_not_a_finite_number(typed):
    with pytest.raises(InvalidOperation):
        parse_decimal(typed)
