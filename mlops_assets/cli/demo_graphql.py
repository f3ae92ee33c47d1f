"""The few GraphQL reads the launched demo needs from its webserver (plain HTTP, no client)."""

import json
import urllib.error
import urllib.request
from typing import Any

from pydantic import BaseModel

LOCATION_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""
RUNS_QUERY = """
query Runs($limit: Int) { runsOrError(limit: $limit) { __typename ... on Runs { results {
    runId jobName status
    repositoryOrigin { repositoryLocationName repositoryName }
} } } }
"""


class RunOrigin(BaseModel):
    """A run as the UI's timeline sees it: no origin, no place on the timeline."""

    run_id: str
    job: str
    status: str
    location: str | None
    repository: str | None


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST ``query`` to ``url``/graphql; its ``data`` (raises on HTTP or GraphQL errors)."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload: dict[str, Any] = json.loads(response.read())
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    data: dict[str, Any] = payload["data"]
    return data


def location_status(url: str, location: str) -> str:
    """``LOADED``, ``LOADING``, ``missing``, ``not answering`` or ``error: <message>``."""
    try:
        data = graphql(url, LOCATION_QUERY)
    except (urllib.error.URLError, ConnectionError, TimeoutError, RuntimeError):
        return "not answering"
    workspace = data["workspaceOrError"]
    if workspace["__typename"] != "Workspace":
        return "not answering"
    for entry in workspace["locationEntries"]:
        if entry["name"] != location:
            continue
        loaded = entry.get("locationOrLoadError") or {}
        if loaded.get("__typename") == "PythonError":
            return f"error: {loaded.get('message', '').strip()}"
        return str(entry["loadStatus"])
    return "missing"


def run_origins(url: str, limit: int = 1000) -> list[RunOrigin]:
    """The instance's latest runs with their repository origin, as the webserver serves them."""
    runs = graphql(url, RUNS_QUERY, {"limit": limit})["runsOrError"]
    if runs["__typename"] != "Runs":
        raise RuntimeError(f"runsOrError: {runs}")
    return [
        RunOrigin(
            run_id=r["runId"],
            job=r["jobName"],
            status=r["status"],
            location=(r["repositoryOrigin"] or {}).get("repositoryLocationName"),
            repository=(r["repositoryOrigin"] or {}).get("repositoryName"),
        )
        for r in runs["results"]
    ]
