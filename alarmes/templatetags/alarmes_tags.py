from django import template
from django.utils.html import format_html

register = template.Library()

SEV_CLASS = {
    "critico": "danger",
    "alto": "danger",
    "medio": "warning",
    "baixo": "info",
    "informativo": "secondary",
}
EST_CLASS = {"ativo": "danger", "reconhecido": "warning", "encerrado": "secondary"}


@register.simple_tag
def severidade_badge(alarme_or_regra):
    s = alarme_or_regra.severidade
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        SEV_CLASS.get(s, "secondary"),
        alarme_or_regra.get_severidade_display(),
    )


@register.simple_tag
def estado_badge(alarme):
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        EST_CLASS.get(alarme.estado, "secondary"),
        alarme.get_estado_display(),
    )
