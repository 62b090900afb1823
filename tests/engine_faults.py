"""Faults injected into the engine's unit function, importable by Dask workers (picklable by
reference): a crash in the middle of a run, on whichever worker gets the unit."""

from __future__ import annotations

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.work import Unit, UnitOutput, run_unit

FAIL_FROM_BATCH = 1


class InjectedFault(RuntimeError):
    """Raised on purpose by a test."""


def crash_after_first_batch(unit: Unit, sources: DataSources) -> UnitOutput:
    """The real unit for batch 0, a crash for every later batch."""
    if unit.batch >= FAIL_FROM_BATCH:
        raise InjectedFault(f"injected fault in batch {unit.batch}")
    return run_unit(unit, sources)
