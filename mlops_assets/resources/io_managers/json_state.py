"""Small Pydantic outputs (evaluation reports, champion and endpoint state) stored as JSON."""

from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel

from mlops_assets.errors import StorageError
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.storage.atomic import write_text_atomic
from mlops_assets.storage.lakehouse import TableRef


class PydanticJsonIOManager(dg.ConfigurableIOManager):
    """One JSON file per asset where the lakehouse keeps state, written atomically."""

    lakehouse: LakehouseResource

    def _path(self, key: dg.AssetKey) -> Path:
        return self.lakehouse.get().state_path(TableRef.from_path(key.path))

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if not isinstance(obj, BaseModel):
            raise StorageError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}, "
                "not a Pydantic model",
                fix="return a Pydantic model from assets stored with the JSON IO manager",
            )
        path = self._path(context.asset_key)
        write_text_atomic(path, obj.model_dump_json(indent=2), durable=True)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context.asset_key)
        if not path.exists():
            raise StorageError(
                f"no stored state for {context.asset_key.to_user_string()} at {path}",
                fix="materialize the upstream asset first",
            )
        model = context.dagster_type.typing_type
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate_json(path.read_text(encoding="utf-8"))
        raise StorageError(
            f"input of type {model!r} cannot be loaded from JSON state",
            fix="annotate the input with the Pydantic model the upstream asset returns",
        )
