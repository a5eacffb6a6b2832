from django.db import DEFAULT_DB_ALIAS


def create_partitions_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    from .partitions import maintain_partitions

    if using == DEFAULT_DB_ALIAS:
        maintain_partitions()
