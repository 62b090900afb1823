"""The check engine: one `run_check` behind every shell.

    run_check(plots, sources, executor=..., sinks=[...])

- plots (`engine.inputs`): `PlotFile` (a file, read at once or in slices when large),
  `PlotReport` (validated plots), `RegisteredPlots` (registry versions, with stored results
  reused or required: `Reuse`);
- sources: `DataSources` (catalog + data folder);
- executors (`engine.executors`, `engine.prefect`): where units run: `SerialExecutor`,
  `DaskExecutor` (local cluster or a scheduler), `PrefectExecutor` (tasks of a flow);
- sinks (`engine.sinks`): where results go, batch by batch in input order: `CollectSink`,
  `RegistrySink`, and the report writers in `reports`.

The CLI, the Prefect flows, the web service's checks and the bundle all go through here.
"""

from eudr_check.datasets.sources import DataSources
from eudr_check.engine.executors import DaskExecutor, Executor, SerialExecutor, dask_executor
from eudr_check.engine.inputs import PlotFile, PlotInput, PlotReport, RegisteredPlots, Reuse
from eudr_check.engine.record import CheckRun, FileRecord, LotRecord, RunRecord, new_run_id
from eudr_check.engine.registry_sink import RegistrySink
from eudr_check.engine.run import check_report, run_check
from eudr_check.engine.sinks import CollectSink, Delivered, Sink

__all__ = [
    "CheckRun",
    "CollectSink",
    "DaskExecutor",
    "DataSources",
    "Delivered",
    "Executor",
    "FileRecord",
    "LotRecord",
    "PlotFile",
    "PlotInput",
    "PlotReport",
    "RegisteredPlots",
    "RegistrySink",
    "Reuse",
    "RunRecord",
    "SerialExecutor",
    "Sink",
    "check_report",
    "dask_executor",
    "new_run_id",
    "run_check",
]
