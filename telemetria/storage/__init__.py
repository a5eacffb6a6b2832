"""The one storage API for readings: the consumer, the jobs and the views use only this.

No caller knows which back end (native PostgreSQL or TimescaleDB) is in use.
"""

from .backend import backend_name, is_timescale
from .insert import InsertResult, ReadingRow, insert_readings

__all__ = [
    "InsertResult",
    "ReadingRow",
    "backend_name",
    "insert_readings",
    "is_timescale",
]
