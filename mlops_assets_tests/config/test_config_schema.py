"""JSON Schema export: the committed configs/schema/*.schema.json match the models."""

import json
from typing import Any

from mlops_assets.cli.schema import render, schemas
from mlops_assets_tests.conftest import CONFIGS_DIR

SCHEMA_DIR = CONFIGS_DIR / "schema"


def test_committed_schemas_equal_freshly_generated_ones() -> None:
    fresh = schemas()
    committed = {p.name for p in SCHEMA_DIR.glob("*.schema.json")}
    assert committed == set(fresh), "run `make schema` and commit configs/schema/"
    for name, schema in fresh.items():
        on_disk = (SCHEMA_DIR / name).read_text(encoding="utf-8")
        assert on_disk == render(schema), f"{name} is stale: run `make schema` and commit it"


def _definitions(schema: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = schema.get("$defs", {})
    return defs


def test_schemas_are_strict_and_documented() -> None:
    use_case = schemas()["use_case.schema.json"]
    assert set(use_case["required"]) >= {"name", "start_date", "datasets"}
    models = {"UseCaseConfig": use_case, **_definitions(use_case)}
    for name, model in models.items():
        if model.get("type") != "object" or "properties" not in model:
            continue
        # extra="forbid" becomes additionalProperties: false, so editors flag typos
        assert model.get("additionalProperties") is False, name
        for field, spec in model["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"


def test_rules_are_strings_or_a_discriminated_union_in_the_schema() -> None:
    dataset = _definitions(schemas()["use_case.schema.json"])["DatasetConfig"]
    as_text, as_mapping = dataset["properties"]["rules"]["items"]["anyOf"]
    assert as_text["type"] == "string"  # `tenure >= 0` must not be flagged by editors
    assert as_mapping["discriminator"]["propertyName"] == "type"
    assert set(as_mapping["discriminator"]["mapping"]) == {
        "not_null",
        "unique",
        "range",
        "accepted_values",
        "regex",
        "sql",
        "row_count_min",
        "column_count",
        "freshness",
    }


def test_rendering_is_deterministic_json() -> None:
    schema = schemas()["environment.schema.json"]
    text = render(schema)
    assert text.endswith("\n") and json.loads(text) == schema
    assert text == render(json.loads(text))
