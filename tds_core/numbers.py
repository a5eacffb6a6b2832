"""Numbers as people type them in pt-BR ("1.234,56") or with a decimal point ("1234.56"),
from forms and imported files."""

import re
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


class AmbiguousNumber(InvalidOperation):
    """ "1.234": a thousand two hundred thirty-four in pt-BR, one point two three four
    with a decimal point."""


# One point followed by exactly three digits, no comma, not starting with "0.".
_AMBIGUOUS = re.compile(r"[+-]?[1-9]\d{0,2}\.\d{3}")


def parse_typed_decimal(text) -> Decimal:
    """A number a person typed into a form: as `parse_decimal` ("1.234,56", "1234,56",
    and "1234.56" with a decimal point since there is no comma), but "1.234" (a single
    point followed by exactly three digits, no comma) is refused as AmbiguousNumber
    rather than silently read as 1.234 or as 1234."""
    compact = str(text if text is not None else "").strip().replace(" ", "").replace("\u00a0", "")
    if _AMBIGUOUS.fullmatch(compact):
        raise AmbiguousNumber(f"ambiguous: {text!r}")
    return parse_decimal(text)
