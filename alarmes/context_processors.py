from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import EstadoAlarme, Severidade
from .selectors import open_alarm_count


def alarmes(request):
    """The navbar's open-alarm count (one indexed count per page) and what the live
    alarm script (static/js/tds-alarms.js) needs."""
    conta = getattr(request, "conta", None)
    if conta is None:
        return {"open_alarm_count": 0}
    return {
        "open_alarm_count": open_alarm_count(conta=conta),
        "alarm_js_config": {
            "sse": reverse("telemetria:live_events"),
            "resumo": reverse("alarmes:resumo"),
            "time_zone": settings.TIME_ZONE,
            "labels": {
                "novo": _("Novo alarme"),
                "fechar": _("Fechar"),
                "estado": dict(EstadoAlarme.choices),
                "severidade": dict(Severidade.choices),
            },
        },
    }
