"""``mlops-assets check-defs LISTING``: does ``dg list defs --json`` see the code location we build?

``make check-defs`` runs ``dg check defs``, saves ``dg list defs --json`` and passes it here. The
listing must name exactly the assets, checks, jobs, schedules, sensors and resources of the
in-process build, and every use-case definition must come from its own component instance.
"""

import argparse
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str | None = Field(default=None, description="`<defs.yaml>:<line>` of a component.")


class _Asset(_Entry):
    asset_key: str


class _Check(_Entry):
    key: str


class _Named(_Entry):
    name: str


class DgListing(BaseModel):
    """The parts of ``dg list defs --json`` compared here."""

    model_config = ConfigDict(extra="ignore")

    assets: list[_Asset] = Field(default_factory=list)
    asset_checks: list[_Check] = Field(default_factory=list)
    jobs: list[_Named] = Field(default_factory=list)
    schedules: list[_Named] = Field(default_factory=list)
    sensors: list[_Named] = Field(default_factory=list)
    resources: list[_Named] = Field(default_factory=list)


def problems(listing: DgListing) -> tuple[list[str], dict[str, int]]:
    """Differences between the listing and the in-process build, and counts by kind."""
    from mlops_assets.components.project import build_location_definitions
    from mlops_assets.config.project import load_project

    project = load_project()
    defs = build_location_definitions(project)
    graph = defs.resolve_asset_graph()
    expected = {
        "assets": {k.to_user_string() for k in graph.get_all_asset_keys()},
        "asset_checks": {
            f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys
        },
        "jobs": {j.name for j in defs.jobs or []},
        "schedules": {s.name for s in defs.schedules or []},
        "sensors": {s.name for s in defs.sensors or []},
        "resources": set(defs.resources or {}),
    }
    entries: dict[str, list[tuple[str, str | None]]] = {
        "assets": [(a.asset_key, a.source) for a in listing.assets],
        "asset_checks": [(c.key, c.source) for c in listing.asset_checks],
        **{
            kind: [(e.name, e.source) for e in getattr(listing, kind)]
            for kind in ("jobs", "schedules", "sensors", "resources")
        },
    }
    found: list[str] = []
    for kind, want in expected.items():
        got = {name for name, _ in entries[kind]}
        if missing := sorted(want - got):
            found.append(f"{kind} missing from dg list defs: {missing}")
        if extra := sorted(got - want):
            found.append(f"{kind} listed by dg but not built: {extra}")
    use_cases = sorted((uc.name for uc in project.use_cases), key=len, reverse=True)
    for kind in ("assets", "asset_checks", "jobs", "schedules", "sensors"):
        for name, source in entries[kind]:
            owner = next((u for u in use_cases if name.startswith((f"{u}/", f"{u}_"))), None)
            instance = f"mlops_assets/defs/{owner}/defs.yaml"
            if owner is None:
                found.append(f"{kind} entry {name} belongs to no use case")
            elif not (source or "").startswith(instance):
                found.append(f"{kind} entry {name} does not come from {instance}: {source}")
    return found, {kind: len(entries[kind]) for kind in entries}


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "check-defs", help="compare `dg list defs --json` with the code location's build"
    )
    parser.add_argument(
        "listing", type=Path, help="file holding `dg list defs --json` ('-': stdin)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if str(args.listing) == "-" else args.listing.read_text()
    found, counts = problems(DgListing.model_validate_json(text))
    print("dg list defs: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    for problem in found:
        print(f"  problem: {problem}", file=sys.stderr)
    if found:
        return 1
    print("dg sees exactly the definitions the code location builds")
    return 0
