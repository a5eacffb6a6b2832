"""Form fields shared by the apps' forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .numbers import AmbiguousNumber, parse_typed_decimal


class DecimalBRField(forms.DecimalField):
    """A money or quantity field as a Brazilian types it: "1.234,56", "1234,56" and
    "1234.56" (no comma: the point is the decimal separator) all give 1234.56; "1.234"
    is refused as ambiguous (see tds_core.numbers.parse_typed_decimal). Rendered as a
    text input with inputmode="decimal" (a phone shows its numeric keyboard with a
    comma; an <input type=number> drops or rejects the comma in some browsers) and the
    value localized ("1234,56"). Does not need USE_THOUSAND_SEPARATOR."""

    widget = forms.TextInput
    default_error_messages = {
        "ambiguous": _(
            "Número ambíguo: use vírgula para os decimais (ex.: 1.234,00 para mil "
            "duzentos e trinta e quatro, 1,234 para um vírgula dois três quatro)."
        ),
    }

    def __init__(self, **kwargs):
        kwargs["localize"] = True
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip()
        if text.upper().startswith("R$"):
            text = text[2:]
        try:
            return parse_typed_decimal(text)
        except AmbiguousNumber:
            raise ValidationError(self.error_messages["ambiguous"], code="ambiguous") from None
        except ArithmeticError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.TextInput):
            attrs.setdefault("inputmode", "decimal")
        return attrs


def decimal_br_formfield(model_field, **kwargs):
    """ModelForm `formfield_callback`: every model DecimalField as a DecimalBRField."""
    if isinstance(model_field, models.DecimalField):
        kwargs["form_class"] = DecimalBRField
        kwargs.pop("localize", None)
    return model_field.formfield(**kwargs)
