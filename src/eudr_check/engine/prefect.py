"""The Prefect executor: the units of a check as Prefect tasks on the current flow's task
runner (the check flow's DaskTaskRunner), visible one by one in the Prefect UI.

Import this only inside Prefect flows: it imports Prefect.
"""

from __future__ import annotations

from collections.abc import Iterator

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.executors import RunUnit
from eudr_check.engine.work import Unit, UnitOutput

# A unit is pure, so a retry on another worker is safe; retried once for I/O trouble only
# (a tile on a network share, a worker lost), since the maths is deterministic.
UNIT_RETRIES = 1
UNIT_RETRY_DELAY_S = 5


# Module-level, so Dask workers import it (a task made at run time would not pickle). No
# result cache and no persisted results: a unit's inputs are thousands of shapes (hashing them
# for a cache key would cost more than the work), and its results go to the sinks.
@task(
    name="analyse-plots", retries=UNIT_RETRIES, retry_delay_seconds=UNIT_RETRY_DELAY_S,
    cache_policy=NO_CACHE, persist_result=False,
)  # fmt: skip
def analyse_plots(work: RunUnit, unit: Unit, sources: DataSources) -> UnitOutput:
    return work(unit, sources)


class PrefectExecutor:
    """Units submitted as tasks, at most `window` in flight."""

    name = "prefect"

    def __init__(
        self, window: int = 8, *, retries: int = UNIT_RETRIES,
        retry_delay_s: float = UNIT_RETRY_DELAY_S,
    ) -> None:  # fmt: skip
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self.retries = retries
        self.retry_delay_s = retry_delay_s

    def map(self, fn: RunUnit, units: Iterator[Unit], sources: DataSources) -> Iterator[UnitOutput]:
        in_flight: list[PrefectFuture[UnitOutput]] = []
        for unit in units:
            while len(in_flight) >= self.window:
                yield _first_done(in_flight)
            analyse = analyse_plots.with_options(
                task_run_name=f"batch {unit.batch} part {unit.part}",
                retries=self.retries, retry_delay_seconds=self.retry_delay_s,
            )  # fmt: skip
            in_flight.append(analyse.submit(fn, unit, sources))
        while in_flight:
            yield _first_done(in_flight)


def _first_done(in_flight: list[PrefectFuture[UnitOutput]]) -> UnitOutput:
    future = next(as_completed(list(in_flight)))
    in_flight.remove(future)
    out: UnitOutput = future.result()  # raises the task's error once its retries are spent
    return out
