"""Signals of the alarm lifecycle, for apps above this one (notifications).

`alarm_transitioned` is sent by alarmes.services for every transition (fired,
acknowledged, cleared, comment), synchronously and INSIDE the transaction that wrote
it, with `transicao` (a TransicaoAlarme, its `alarme` loaded) as the only argument:

    @receiver(alarm_transitioned)
    def enqueue(sender, transicao, **kwargs): ...

A receiver that writes rows (an outbox) therefore commits or rolls back with the
transition itself; anything that leaves the process (e-mail, HTTP) belongs after
commit (`transaction.on_commit`) or in a job reading that outbox.
"""

from django.dispatch import Signal

alarm_transitioned = Signal()  # kwargs: transicao
