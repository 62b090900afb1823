"""The EU Information System's answers, fetched on a schedule: every filed statement still
waiting (SUBMITTED, no numbers yet) is asked for its status, 100 per call, and the reference
and verification numbers are recorded as they come. The EU asks for no more than one look
every 30 minutes after a submission, hence the deployment's interval."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from eudr_check.dds.client import TracesClient
from eudr_check.dds.lifecycle import refresh
from eudr_check.settings import get_settings
from eudr_check.store.registry import Registry

POLL_MINUTES = 30


@task(retries=2, retry_delay_seconds=60, cache_policy=NO_CACHE)
def poll(registry_url: str | None, endpoint: str | None) -> dict[str, Any]:
    """Refresh the pending statements filed to this instance's EU environment."""
    settings = get_settings()
    if endpoint is not None:
        settings = settings.model_copy(update={"traces_endpoint": endpoint})
    client = TracesClient.from_settings(settings)
    with Registry.open(registry_url or settings.registry_url) as registry:
        pending = registry.dds_find(pending=True, endpoint=client.dds_url)
        records = refresh(registry, client, pending)
    numbered = [r for r in records if r.reference_number]
    return {
        "pending": len(pending),
        "numbered": len(numbered),
        "statuses": {r.uuid: r.status for r in records},
    }


@flow(name="dds-poll")
def poll_statements(registry_url: str | None = None, endpoint: str | None = None) -> dict[str, Any]:
    summary = poll(registry_url, endpoint)
    get_run_logger().info(
        "%s pending statement(s) asked; %s with their numbers", summary["pending"],
        summary["numbered"],
    )  # fmt: skip
    return summary
