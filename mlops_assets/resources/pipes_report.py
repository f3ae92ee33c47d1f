"""What a Databricks step reports back through Pipes, read into typed values."""

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from mlops_assets.errors import StorageError

if TYPE_CHECKING:  # delta-rs loads at run time, not with the location
    from mlops_assets.storage.delta import WriteResult

Summary = TypeVar("Summary", bound=BaseModel)


def raw_value(value: object) -> object:
    """A metadata entry's plain value (``MetadataValue.value``, or the value itself)."""
    return getattr(value, "value", value)


def read_write_report(
    entries: dict[str, Any], summary_cls: type[Summary], *, job: str, step: str, did: str
) -> tuple[Summary, "WriteResult", dict[str, Any]]:
    """What a step that writes its own partition reported: its summary (``summary_cls``), its
    commit (``write``), and the other entries (the Pipes client's job run id and URL) as they
    came. StorageError, naming the ``job`` and its ``step``, when the summary or the commit is
    missing or malformed (``did``: what the step does, e.g. ``scored``)."""
    from mlops_assets.storage.delta import WriteResult

    reported = {k: raw_value(v) for k, v in entries.items()}
    try:
        summary = summary_cls.model_validate({k: reported.get(k) for k in summary_cls.model_fields})
        written = WriteResult.model_validate(reported.get("write"))
    except ValueError as exc:
        raise StorageError(
            f"the {job} job reported no usable summary or commit: {exc}",
            context={"reported": sorted(reported)},
            fix=f"check the job's logs: the `{step}` step reports what it {did} and wrote",
        ) from exc
    own = {*summary_cls.model_fields, "write"}
    return summary, written, {k: v for k, v in entries.items() if k not in own}
