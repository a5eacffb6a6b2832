"""Extension point of the alarm page: links that upper apps add to it without alarmes
importing them (alarmes is the lower layer). In their AppConfig.ready():

    from alarmes.links import register_alarm_link
    register_alarm_link(
        key="entregas",
        label=_("Registro de entregas"),
        url=lambda request, alarme: reverse("notificacoes:entregas_alarme", args=[alarme.pk]),
    )

`url(request, alarme)` runs in the request's account scope and returns the link's URL,
or None to hide it from this user.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmLink:
    key: str
    label: str
    url: Callable


_links: dict[str, AlarmLink] = {}


def register_alarm_link(*, key: str, label, url: Callable) -> None:
    """Registers (or replaces, by key) a link of the alarm detail page."""
    _links[key] = AlarmLink(key, label, url)


def unregister_alarm_link(*, key: str) -> None:
    _links.pop(key, None)


def alarm_links(*, request, alarme) -> list[dict]:
    """[{"key", "label", "url"}] the user may follow, in key order."""
    out = []
    for link in sorted(_links.values(), key=lambda lk: lk.key):
        url = link.url(request, alarme)
        if url:
            out.append({"key": link.key, "label": link.label, "url": url})
    return out
