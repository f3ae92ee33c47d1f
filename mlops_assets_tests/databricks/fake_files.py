"""The Files API of the fake workspace over a local folder that job processes see as ``/Volumes``.

Upload (atomic, ``overwrite=false`` refused on an existing file), download, metadata (HEAD),
delete; directories: create (``mkdir -p``), list, HEAD, delete (only when empty, as Databricks).
"""

import secrets
import shutil
from pathlib import Path

from mlops_assets_tests.databricks.fake_http import LoopbackServer, Reply, Request, error
from mlops_assets_tests.databricks.fake_jobs import VolumeMapper


class VolumeFiles:
    """Handlers of ``/api/2.0/fs/files`` and ``/api/2.0/fs/directories``."""

    def __init__(self, volumes: VolumeMapper) -> None:
        self.volumes = volumes

    def register(self, server: LoopbackServer) -> None:
        for verb, fn in (
            ("PUT", self._put_file),
            ("GET", self._get_file),
            ("HEAD", self._head_file),
            ("DELETE", self._delete_file),
        ):
            server.add_route(verb, r"/api/2\.0/fs/files(?P<path>/Volumes/.+)", fn)
        for verb, fn in (
            ("PUT", self._mkdir),
            ("GET", self._list_dir),
            ("HEAD", self._head_dir),
            ("DELETE", self._rmdir),
        ):
            server.add_route(verb, r"/api/2\.0/fs/directories(?P<path>/Volumes/.+?)/?", fn)

    def _local(self, request: Request) -> Path:
        return self.volumes.local(request.match["path"])

    def _put_file(self, request: Request) -> Reply:
        path = self._local(request)
        if path.exists() and request.query.get("overwrite", "true").lower() == "false":
            return error(409, "ALREADY_EXISTS", f"{request.match['path']} exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        tmp.write_bytes(request.raw)
        tmp.replace(path)
        return Reply(204)

    def _get_file(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_file():
            return error(404, "NOT_FOUND", f"file {request.match['path']} does not exist")
        return Reply(raw=path.read_bytes())

    def _head_file(self, request: Request) -> Reply:
        return Reply(200 if self._local(request).is_file() else 404)

    def _delete_file(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_file():
            return error(404, "NOT_FOUND", f"file {request.match['path']} does not exist")
        path.unlink()
        return Reply(204)

    def _mkdir(self, request: Request) -> Reply:
        self._local(request).mkdir(parents=True, exist_ok=True)
        return Reply(204)

    def _list_dir(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_dir():
            return error(404, "NOT_FOUND", f"directory {request.match['path']} does not exist")
        base = request.match["path"].rstrip("/")
        contents = [
            {
                "name": p.name,
                "path": f"{base}/{p.name}",
                "is_directory": p.is_dir(),
                **({} if p.is_dir() else {"file_size": p.stat().st_size}),
            }
            for p in sorted(path.iterdir())
            if not p.name.startswith(".")
        ]
        return Reply(payload={"contents": contents})

    def _head_dir(self, request: Request) -> Reply:
        return Reply(200 if self._local(request).is_dir() else 404)

    def _rmdir(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_dir():
            return error(404, "NOT_FOUND", f"directory {request.match['path']} does not exist")
        if any(path.iterdir()):
            return error(400, "DIRECTORY_NOT_EMPTY", f"{request.match['path']} is not empty")
        shutil.rmtree(path)
        return Reply(204)
