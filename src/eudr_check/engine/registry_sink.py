"""The registry sink: a run recorded as it goes, finished `done` or `failed`, never left open.

Results are committed batch by batch (keys: the plot version and its fingerprint), so a crash
loses at most the batches in flight; results are unique per (plot version, fingerprint), so a
re-run never duplicates one.
"""

from __future__ import annotations

import logging

from eudr_check.engine.record import RunRecord
from eudr_check.engine.sinks import Delivered, Sink
from eudr_check.store.registry import Registry

log = logging.getLogger(__name__)


class RegistrySink(Sink):
    wants_reused = False  # reused results are in the registry already

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.run_pk: int | None = None  # the registry's id of the run
        self.recorded = 0

    def open(self, record: RunRecord) -> None:
        self.run_pk = self.registry.start_run(
            record.kind, record.tool_version, {"plots": record.planned}, uid=record.run_id
        )

    def write(self, batch: Delivered) -> None:
        if self.run_pk is None or batch.keys is None:
            raise RuntimeError("the registry sink needs registered plots (version, fingerprint)")
        items = [
            (int(version), str(fingerprint), result)
            for i, ((version, fingerprint), result) in enumerate(
                zip(batch.keys, batch.results, strict=True)
            )
            if batch.is_fresh(i)
        ]
        self.recorded += self.registry.record_results(self.run_pk, items)

    def close(self, record: RunRecord) -> None:
        if self.run_pk is not None:
            self.registry.finish_run(self.run_pk, "done")
            log.info("run %s (%s): %s results recorded", self.run_pk, record.run_id, self.recorded)

    def abort(self, error: BaseException) -> None:
        if self.run_pk is not None:
            self.registry.finish_run(self.run_pk, "failed")
            log.warning("run %s failed: %s", self.run_pk, error)
