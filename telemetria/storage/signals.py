from django.db import DEFAULT_DB_ALIAS, connections


def create_partitions_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    """Storage maintenance after `migrate`, when the storage exists: after
    `migrate telemetria zero` it was just removed and there is nothing to maintain."""
    from .backend import BACKEND_TABLE
    from .partitions import maintain_partitions

    if using != DEFAULT_DB_ALIAS:
        return
    if BACKEND_TABLE not in connections[using].introspection.table_names():
        return
    maintain_partitions()
