"""Names from configuration that become parts of storage paths: never able to leave the data dir.

Use case, dataset, table and model names are identifiers (their own patterns, checked on the
whole string). The one free-form piece of a path, a dataset's landing ``subdir``, is a
:data:`FolderName`: one folder of letters, digits, ``_`` and ``-`` (what the lakehouse accepts,
``storage.lakehouse.safe_name``), so no ``..``, no separator, no absolute path, no NUL or other
control character. It is refused at load, the reason named and control characters shown escaped.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
MAX_FOLDER_LENGTH = 120


def _folder_name(value: str) -> str:
    shown = value.encode("unicode_escape").decode("ascii")[:80]
    if _FOLDER.fullmatch(value) and len(value) <= MAX_FOLDER_LENGTH:
        return value
    if not value or len(value) > MAX_FOLDER_LENGTH:
        problem = f"must be 1 to {MAX_FOLDER_LENGTH} characters, got {len(value)}"
    elif any(ord(c) < 32 or ord(c) == 127 for c in value):
        problem = f"{shown!r} contains a control character (NUL, newline, ...)"
    elif value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        problem = f"{shown!r} is an absolute path"
    elif "/" in value or "\\" in value:
        problem = f"{shown!r} contains a path separator"
    elif ".." in value:
        problem = f"{shown!r} contains `..`"
    else:
        problem = f"{shown!r} is not a plain folder name"
    raise ValueError(
        f"{problem}: it could leave the landing root; use one folder name of letters, digits, "
        "`_` and `-` (starting with a letter or digit)"
    )


FolderName = Annotated[
    str,
    AfterValidator(_folder_name),
    Field(json_schema_extra={"pattern": f"^{_FOLDER.pattern}$", "maxLength": MAX_FOLDER_LENGTH}),
]
"""One folder below a root the lakehouse owns (e.g. the use case's landing root)."""
