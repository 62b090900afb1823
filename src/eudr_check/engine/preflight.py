"""The preflight as the engine's `inspect` hook: every batch's tiles, before its analysis.

Each shell shows the answer its own way (the CLI a table, the web service the upload page, the
flows their log), from the same `Preflight`, merged over the batches seen so far. Slices of a
streamed file are read inside the units: only the batches read where the run started are seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eudr_check.datasets.preflight import Preflight, preflight
from eudr_check.datasets.sources import DataSources
from eudr_check.engine.plan import PlotTask
from eudr_check.rules import ValidationReport

Seen = Callable[[Preflight, ValidationReport], None]


class PreflightWatch:
    """Pass as `run_check(inspect=...)`; `found` is the answer so far (None: no batch yet).
    `seen` is called with each batch's own answer, as soon as it is known."""

    def __init__(self, sources: DataSources, seen: Seen | None = None) -> None:
        self.sources = sources
        self.seen = seen
        self.found: Preflight | None = None

    def __call__(self, report: ValidationReport, tasks: Sequence[PlotTask]) -> None:
        # Only plots that will be analysed: a plot with geometry errors needs no tile.
        live = [t for t in tasks if t.shape is not None]
        found = preflight(self.sources, [t.shape for t in live], [t.plot_id for t in live])
        self.found = found if self.found is None else self.found.merged(found)
        if self.seen is not None:
            self.seen(found, report)
