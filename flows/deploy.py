"""Deployments: `python -m flows.deploy` serves them (the nightly one on its schedule).

Needs a Prefect server (`prefect server start`) or Prefect Cloud; see the README.
"""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval

from flows.check import bundle, check, check_queue, ingest
from flows.dds import POLL_MINUTES, poll_statements
from flows.nightly import nightly

NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "America/Lima"


def deployments() -> list[RunnerDeployment]:
    return [
        nightly.to_deployment(
            name="nightly", schedule=Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE),
            description="Fresh alerts, re-check what changed, digests and e-mails, 02:00 Lima.",
        ),
        ingest.to_deployment(name="ingest"),
        check.to_deployment(name="check"),
        check_queue.to_deployment(
            name="check-queue",
            description="The web service's queued checks (EUDR_CHECK_CHECK_DEPLOYMENT).",
        ),
        bundle.to_deployment(name="bundle"),
        poll_statements.to_deployment(
            name="dds-poll", schedule=Interval(POLL_MINUTES * 60),
            description="Ask the EU system for the numbers of filed statements, every 30 min.",
        ),
    ]  # fmt: skip


if __name__ == "__main__":
    serve(*deployments())
