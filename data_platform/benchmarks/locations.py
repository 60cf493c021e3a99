"""Where a case's file lives, local disk or the S3 store, and how it is saved and loaded there.

Local: the library gets the path and does its own file I/O (memory maps included).
S3: every library goes through the same transport, `storage.arrow.arrow_filesystem`, so the
formats compare on equal terms. A save streams into an S3 output stream (a multipart
upload); a load downloads the object in one streaming GET and parses it from memory.
Libraries that need a real file (PyTables) go through a local temporary file, inside the
timed work, because that is what using them with S3 costs.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from data_platform.benchmarks.codecs import Codec
from data_platform.benchmarks.page_cache import drop_from_cache
from data_platform.storage.arrow import arrow_filesystem

if TYPE_CHECKING:
    from data_platform.settings import Settings

COPY_BUFFER = 8 * 2**20


@dataclass
class Location:
    """One file of a case: `path` is a local path, or ``bucket/key`` when target is s3."""

    target: str
    path: str
    settings: Settings | None = None
    _fs: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.target == "s3" and self.settings is None:
            raise ValueError("the s3 target needs a Settings (settings=...)")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fs": None}  # a filesystem handle is rebuilt, not pickled

    @property
    def fs(self) -> Any:
        if self._fs is None:
            assert self.settings is not None
            self._fs = arrow_filesystem(self.settings)
        return self._fs

    @property
    def uri(self) -> str:
        return f"s3://{self.path}" if self.target == "s3" else self.path

    def save(self, codec: Codec, frame: Any) -> None:
        """Write `frame` with `codec` to this location."""
        if self.target == "local":
            codec.write(frame, self.path)
        elif codec.needs_path:
            with tempfile.TemporaryDirectory(prefix="dp-bench-") as tmp:
                staged = os.path.join(tmp, "staged")
                codec.write(frame, staged)
                with open(staged, "rb") as src, self.fs.open_output_stream(self.path) as out:
                    shutil.copyfileobj(src, out, COPY_BUFFER)
        else:
            with self.fs.open_output_stream(self.path) as out:
                codec.write(frame, out)

    def load(self, codec: Codec, schema: pl.Schema) -> Any:
        """Read the file back with `codec` into the library's frame."""
        if self.target == "local":
            return codec.read(self.path, schema)
        with self.fs.open_input_stream(self.path) as src:
            if codec.needs_path:
                with tempfile.TemporaryDirectory(prefix="dp-bench-") as tmp:
                    staged = os.path.join(tmp, "staged")
                    with open(staged, "wb") as out:
                        shutil.copyfileobj(src, out, COPY_BUFFER)
                    return codec.read(staged, schema)
            data = src.read()
        if codec.frame_kind == "arrow":
            import pyarrow as pa

            return codec.read(pa.BufferReader(data), schema)
        return codec.read(io.BytesIO(data), schema)

    def make_cold(self) -> str:
        """Evict the file from the OS cache: ``cold``, ``warm`` (could not) or ``remote``."""
        if self.target == "s3":
            return "remote"
        return "cold" if drop_from_cache(self.path) else "warm"

    def _store(self) -> Any:
        from data_platform.storage import ObjectStore

        assert self.settings is not None
        return ObjectStore.from_settings(self.settings, self.path.split("/", 1)[0])

    def size(self) -> int:
        """Bytes of the stored file."""
        if self.target == "local":
            return os.path.getsize(self.path)
        return int(self._store().stat(self.path.split("/", 1)[1]).size)

    def delete(self) -> None:
        """Remove the file (no error when it is already gone).

        S3 objects are deleted with the store client: pyarrow's `delete_file` would leave
        an empty "directory" marker object behind.
        """
        if self.target == "local":
            Path(self.path).unlink(missing_ok=True)
        else:
            self._store().delete(self.path.split("/", 1)[1], missing_ok=True)


def case_location(
    target: str,
    name: str,
    *,
    workdir: Path | None = None,
    settings: Settings | None = None,
    prefix: str = "benchmarks/formats",
) -> Location:
    """The location of file `name`: under `workdir` locally, under `prefix` in the bucket."""
    if target == "s3":
        if settings is None:
            raise ValueError("the s3 target needs a Settings (settings=...)")
        return Location("s3", f"{settings.bucket}/{prefix.strip('/')}/{name}", settings)
    if workdir is None:
        raise ValueError("the local target needs a workdir")
    workdir.mkdir(parents=True, exist_ok=True)
    return Location("local", str(workdir.resolve() / name))
