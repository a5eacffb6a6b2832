"""Bootstrap rendering helpers for form fields."""

from django import template

register = template.Library()


@register.filter
def bs_widget(bound_field):
    """The field's widget with Bootstrap's `is-invalid` class when it has errors, and
    aria-describedby pointing at its error/help text."""
    attrs = {}
    css = bound_field.field.widget.attrs.get("class", "form-control")
    described = []
    if bound_field.errors:
        css = f"{css} is-invalid"
        attrs["aria-invalid"] = "true"
        described.append(f"{bound_field.auto_id}_error")
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_helptext")
    attrs["class"] = css
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(bound_field) -> bool:
    return getattr(bound_field.field.widget, "input_type", None) == "checkbox"
