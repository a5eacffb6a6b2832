"""The shared money/quantity form field: what a Brazilian types is what is stored."""

from decimal import Decimal

import pytest
from django import forms

from tds_core.forms import DecimalBRField


class _Form(forms.Form):
    valor = DecimalBRField(max_digits=12, decimal_places=2, required=False)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),  # no comma: the point is the decimal separator
        ("1.234.567,00", Decimal("1234567")),
        ("R$ 1.234,56", Decimal("1234.56")),
        ("0,5", Decimal("0.5")),
        ("12", Decimal(12)),
        ("", None),
    ],
)
def test_accepts_what_a_brazilian_types(typed, value):
    form = _Form({"valor": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["valor"] == value


@pytest.mark.parametrize("typed", ["1.234", "12.500"])
def test_refuses_a_lone_point_with_three_digits_as_ambiguous(typed):
    form = _Form({"valor": typed})
    assert not form.is_valid()
    assert "ambíguo" in form.errors["valor"][0]


def test_refuses_garbage_and_too_many_decimals():
    assert not _Form({"valor": "abc"}).is_valid()
    assert not _Form({"valor": "1,234"}).is_valid()  # 3 decimals on a 2-decimal field


def test_renders_a_localized_text_input_with_the_decimal_keyboard():
    html = str(_Form(initial={"valor": Decimal("1234.5")})["valor"])
    assert 'type="text"' in html
    assert 'inputmode="decimal"' in html
    assert 'value="1234,5"' in html
