"""Post-commit hook point of the ingest consumer, for apps above it (alarms).

A hook is called in the writer thread with the batch's committed ReadingRows after the
batch's transaction committed and before the batch is acked: a crash in between
redelivers the batch, and the hook sees its rows again (hooks must be idempotent). An
exception other than a database error is logged and does not fail the batch.
"""

import logging

log = logging.getLogger(__name__)

_hooks: list = []


def register_post_commit(hook) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


def run_post_commit(rows, db_errors: tuple) -> None:
    for hook in _hooks:
        try:
            hook(rows)
        except db_errors:
            raise
        except Exception:
            log.exception("event=post_commit_hook_failed hook=%s", getattr(hook, "__name__", hook))
