"""Plot registry and run history (SQLAlchemy 2; SQLite by default, PostgreSQL/PostGIS option).

with Registry.open() as reg:  # EUDR_CHECK_REGISTRY_URL or sqlite:///eudr_check.db
    coop = reg.create_organisation("Cooperativa Jaén", "cooperative")
    summary = reg.register_upload(coop, validate(read_plots(path), fix=True), path.name, sha)
    report = reg.report_for(reg.current_versions(coop))  # -> pipeline.check_plots(report, ...)
"""

from eudr_check.store.access import LotInfo, OrgInfo, PlotRef, TokenInfo, UploadInfo
from eudr_check.store.registry import Registry, UploadSummary, default_url
from eudr_check.store.schema import OrgKind, Role, RunKind, RunStatus

__all__ = [
    "LotInfo",
    "OrgInfo",
    "OrgKind",
    "PlotRef",
    "Registry",
    "Role",
    "RunKind",
    "RunStatus",
    "TokenInfo",
    "UploadInfo",
    "UploadSummary",
    "default_url",
]
