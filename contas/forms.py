"""Forms of the accounts area, and the helper every app's forms use to show a
service's ValidationError on the fields it names."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.utils.translation import gettext_lazy as _

from tds_core.forms import decimal_br_formfield

from .models import Conta, Role


def apply_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Adds a service's ValidationError to `form`: each error on its field when the
    form has that field, otherwise as a non-field error (never lost)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = field if field in form.fields else None
        if target is None and field != NON_FIELD_ERRORS:
            errors = [ValidationError(f"{field}: {m}") for e in errors for m in e.messages]
        form.add_error(target, errors)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm used only for fields, widgets and type conversion: model validation
    and saving happen in the service, which raises field-keyed ValidationErrors that
    the view hands to `apply_validation_error`. Skipping `_post_clean` keeps each
    check in one place and each error shown once."""

    def _post_clean(self):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model fields' own validators (ranges, MAC format) also run in the form, so
        # that every such error shows on the first submit, alongside "required" errors.
        for name, field in self.fields.items():
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            extra = [v for v in model_field.validators if v not in field.validators]
            field.validators = [*field.validators, *extra]
        bootstrapify(self)


def bootstrapify(form: forms.BaseForm) -> forms.BaseForm:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
    return form


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Papel"), choices=Role.choices, initial=Role.LEITOR)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Papel"), choices=Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrapify(self)


class ContaPricesForm(ServiceModelForm):
    """The account's prices per unit, typed as a Brazilian types them ("0,85", "1.234,56")."""

    class Meta:
        model = Conta
        formfield_callback = decimal_br_formfield
        fields = ["preco_agua", "preco_energia", "preco_gas"]

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["placeholder"] = "0,00"
            field.disabled = read_only
