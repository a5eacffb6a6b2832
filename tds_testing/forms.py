"""Assertions on rendered forms: is an error shown on the field a user would look at?"""

import html
import re


def _widget_tag(content: str, name: str) -> str | None:
    match = re.search(
        rf'<(?:input|select|textarea)\b[^>]*\bname="{re.escape(name)}"[^>]*>', content
    )
    return match.group(0) if match else None


def field_error(response, name: str) -> str | None:
    """The error text shown under field `name` (Bootstrap invalid-feedback), or None.

    Also checks that the widget itself is marked `is-invalid`, as a user would see it.
    """
    content = response.content.decode()
    feedback = re.search(
        rf'<div class="invalid-feedback" id="id_{re.escape(name)}_error">(.*?)</div>',
        content,
        re.S,
    )
    if feedback is None:
        return None
    tag = _widget_tag(content, name)
    assert tag is not None, f"no widget for field {name!r}"
    assert "is-invalid" in tag, f"field {name!r} has an error but its widget is not is-invalid"
    return html.unescape(feedback.group(1)).strip()


def fields_with_errors(response) -> set[str]:
    content = response.content.decode()
    return set(re.findall(r'<div class="invalid-feedback" id="id_(\w+)_error">', content))
