"""Numbers as people type them in pt-BR ("1.234,56") or with a decimal point ("1234.56"),
from forms and imported files."""

from decimal import Decimal, InvalidOperation


def parse_decimal(value) -> Decimal:
    """`value` (text, or a number from a spreadsheet cell) as a finite Decimal. With a
    comma, the comma is the decimal separator and points group thousands ("1.234,56");
    without one, a point is the decimal separator ("0.125"). Spaces are ignored. Raises
    InvalidOperation (an ArithmeticError) for anything else, NaN and infinities
    included."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(str(value))
    else:
        text = str(value if value is not None else "").replace(" ", "").replace("\u00a0", "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        number = Decimal(text)
    if not number.is_finite():
        raise InvalidOperation(f"not a finite number: {value!r}")
    return number
