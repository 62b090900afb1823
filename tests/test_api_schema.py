"""schemathesis against the service's own OpenAPI schema: no request, however odd, gets a 500.

Every operation, as each role (technician of cooperative A, exporter X, admin), against a
populated registry (tests/api_world.py), in process through the ASGI app. Bounded and
deterministic: a fixed number of examples per operation, derandomised, no example database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from eudr_check.api import create_app
from tests.api_world import BACKENDS, World, build_world
from tests.api_world import settings as app_settings

# Examples per operation and role; raise it for a deeper (slower) search.
EXAMPLES = int(os.environ.get("EUDR_CHECK_SCHEMA_EXAMPLES", "12"))
ROLES = {"technician": "tech_a", "exporter": "exp_x", "admin": "admin"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with build_world(str(request.param), tmp_path_factory.mktemp("schema")) as w:
        yield w


def _served_schema() -> dict[str, Any]:
    """The OpenAPI document of the app as built (an empty in-memory registry suffices)."""
    app = create_app(app_settings("sqlite://"))
    try:
        doc: dict[str, Any] = app.openapi()
    finally:
        app.state.checks.close()
        app.state.registry.close()
    return doc


# Loaded when the module is collected, so each operation is a test of its own; the requests
# go to the populated world's app (case.call(app=...)).
schema = schemathesis.openapi.from_dict(_served_schema())


def _protect(case: Any, world: World) -> None:
    """Keep the roles' own tokens and A's share with X alive: a generated DELETE of those
    would only make the rest of the run test 401s. (Path values come as ints or, in the
    coverage phase, as the text sent.)"""
    path = case.operation.path
    params = case.path_parameters or {}
    own = {str(t) for t in world.token_ids.values()}
    if path == "/api/tokens/{token_id}" and str(params.get("token_id")) in own:
        info, _ = world.registry.create_token("admin", "decoy")
        params["token_id"] = info.id
    if path == "/api/shares/{exporter_id}" and str(params.get("exporter_id")) == str(
        world.orgs["X"]
    ):
        params["exporter_id"] = world.orgs["Z"]


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case: Any, role: str, world: World) -> None:
    _protect(case, world)
    response = case.call(app=world.app, headers=world.headers(ROLES[role]))
    case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_is_authenticated(role: str, world: World) -> None:
    """The run above is as the role, not 401s: the token reaches the app."""
    case = schema["/api/me"]["GET"].Case()
    me = case.call(app=world.app, headers=world.headers(ROLES[role]))
    assert me.status_code == 200, me.text
    assert me.json()["role"] == role
