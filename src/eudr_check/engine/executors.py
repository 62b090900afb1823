"""Executors: where the units of a check run. The engine hands every executor the same units
and the same dataset sources and gets the same outputs back, in any order.

- `SerialExecutor`: in this process, one unit after another.
- `DaskExecutor`: on a Dask cluster, a local one of worker processes (`DaskExecutor.local`)
  or an existing scheduler (`DaskExecutor.connect`, or `dask_executor()` which follows the
  settings' `dask_address`). The sources are sent to every worker once; at most `window` units
  are in flight, so a national file streams through in bounded memory.
- `PrefectExecutor` (`engine.prefect`): as Prefect tasks, on the flow's task runner.

A script that starts a local cluster must guard its entry point with
`if __name__ == "__main__":` (worker processes are spawned and import the main module).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.work import Unit, UnitOutput

RunUnit = Callable[[Unit, DataSources], UnitOutput]

# GDAL's block cache defaults to 5 % of the machine's memory in every worker; striped tiles
# 40,000 px wide fill it fast. This bounds what each local worker keeps of decoded strips.
DEFAULT_GDAL_CACHE_MB = 256


class Executor(Protocol):
    """Runs units; yields their outputs as they complete (in any order)."""

    name: str

    def map(
        self, fn: RunUnit, units: Iterator[Unit], sources: DataSources
    ) -> Iterator[UnitOutput]: ...


class SerialExecutor:
    """Every unit in this process, in order."""

    name = "serial"

    def map(self, fn: RunUnit, units: Iterator[Unit], sources: DataSources) -> Iterator[UnitOutput]:
        for unit in units:
            yield fn(unit, sources)


class DaskExecutor:
    """Units as Dask tasks on a cluster, at most `window` of them in flight (default: twice
    the workers). Tasks are pure: when a worker dies, Dask runs its units again elsewhere."""

    name = "dask"

    def __init__(self, client: Any, window: int | None = None) -> None:
        self.client = client
        self.window = window

    @classmethod
    @contextlib.contextmanager
    def local(
        cls, n_workers: int = 2, *, threads_per_worker: int = 1,
        gdal_cache_mb: int | None = DEFAULT_GDAL_CACHE_MB, window: int | None = None,
    ) -> Iterator[DaskExecutor]:  # fmt: skip
        """A LocalCluster of `n_workers` processes (each with a nanny that restarts it if it
        dies), listening on 127.0.0.1 only, without a dashboard, closed on exit."""
        from distributed import LocalCluster

        env = {} if gdal_cache_mb is None else {"GDAL_CACHEMAX": str(int(gdal_cache_mb))}
        make: Any = LocalCluster
        with (
            make(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # The scheduler serves its HTTP routes (health, metrics) even without a
                # dashboard, on port 8787 by default: any free loopback port instead.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                env=env,
            ) as cluster,
            _client(cluster) as client,
        ):
            yield cls(client, window)

    @classmethod
    @contextlib.contextmanager
    def connect(cls, address: str, *, window: int | None = None) -> Iterator[DaskExecutor]:
        """A running scheduler (tcp://host:port). Its workers must be able to import
        eudr_check and read the data folder (and a streamed plot file) under the same path."""
        with _client(address) as client:
            yield cls(client, window)

    def workers(self) -> int:
        info: dict[str, Any] = self.client.scheduler_info().get("workers", {})
        return max(1, len(info))

    def map(self, fn: RunUnit, units: Iterator[Unit], sources: DataSources) -> Iterator[UnitOutput]:
        from distributed import as_completed

        limit = self.window or 2 * self.workers()
        run = _token()
        shared: Any = None
        loop: Any = self.client.loop  # not the process's default client: there may be none
        make: Any = as_completed
        waiting: Any = make([], loop=loop)
        in_flight: dict[str, Any] = {}
        try:
            for unit in units:
                while len(in_flight) >= limit:
                    yield self._collect(waiting, in_flight)
                if shared is None:
                    shared = _scatter(self.client, sources)
                # An explicit key: Dask does not hash (tokenize) thousands of geometries.
                key = f"eudr-check-{run}-{unit.batch:07d}-{unit.part:05d}"
                future = self.client.submit(fn, unit, shared, key=key, pure=False)
                in_flight[key] = future
                waiting.add(future)
            while in_flight:
                yield self._collect(waiting, in_flight)
        finally:
            pending = [f for f in in_flight.values() if not f.done()]
            if pending:
                with contextlib.suppress(Exception):  # the cluster may be gone already
                    self.client.cancel(pending)

    @staticmethod
    def _collect(waiting: Any, in_flight: dict[str, Any]) -> UnitOutput:
        future = next(waiting)
        del in_flight[str(future.key)]
        out: UnitOutput = future.result()
        future.release()
        return out


@contextlib.contextmanager
def dask_executor(
    address: str | None = None, n_workers: int = 2, *, window: int | None = None
) -> Iterator[DaskExecutor]:
    """An existing cluster at `address` (else the settings' dask_address), or a local one."""
    from eudr_check.settings import get_settings

    address = address or get_settings().dask_address
    if address:
        with DaskExecutor.connect(address, window=window) as executor:
            yield executor
    else:
        with DaskExecutor.local(n_workers, window=window) as executor:
            yield executor


def _client(target: Any) -> Any:
    from distributed import Client

    # Not Dask's default scheduler: other Dask code in this process is not affected.
    make: Any = Client
    return make(target, set_as_default=False)


def _token() -> str:
    import uuid

    return uuid.uuid4().hex[:12]


def _scatter(client: Any, sources: DataSources, attempts: int = 3) -> Any:
    """The sources on every worker, once per run: a worker that dies does not take the only
    copy with it. A worker that dies during the broadcast fails it: then broadcast again."""
    from distributed.comm.core import CommClosedError

    for attempt in range(attempts):
        try:
            return client.scatter(sources, broadcast=True, hash=False)
        except (CommClosedError, OSError):
            if attempt == attempts - 1:
                raise
            client.wait_for_workers(1, timeout=60)
    raise AssertionError("unreachable")
