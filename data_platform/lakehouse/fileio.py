"""The Iceberg tables' FileIO: pyiceberg's Arrow one, with its filesystems shared.

pyiceberg builds a FileIO for every table it loads and a new S3 filesystem for every
FileIO: about 20 per ingested upload, each a fresh AWS client. An Arrow filesystem is
thread-safe and depends only on the store's settings, so one per store (scheme, bucket,
`s3.*` settings) serves every table of the process. The catalog names this class in its
`py-io-impl` property (`catalog.py`).

A forked child (a DataLoader worker, a forked process pool) must not use its parent's
filesystems: their HTTP connections are the parent's sockets, and two processes reading
one socket get each other's bytes (seen as corrupt Avro manifests). The child starts with
none of them and builds its own.
"""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

from pyarrow.fs import FileSystem
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.typedef import EMPTY_DICT, Properties

# the properties a filesystem is built from (the tables' own properties are not among them)
_STORE_PREFIXES = ("s3.", "client.", "gcs.", "adls.", "hdfs.", "hf.")


class SharedFileIO(PyArrowFileIO):
    """`PyArrowFileIO` whose filesystems are built once per store and shared."""

    _filesystems: ClassVar[dict[tuple[Any, ...], FileSystem]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, properties: Properties = EMPTY_DICT):
        super().__init__(properties)
        self.fs_by_scheme = self._shared_filesystem

    def __setstate__(self, state: dict[str, Any]) -> None:  # unpickled (e.g. in a worker)
        super().__setstate__(state)
        self.fs_by_scheme = self._shared_filesystem

    def _shared_filesystem(self, scheme: str, netloc: str | None = None) -> FileSystem:
        store = tuple(
            sorted((k, v) for k, v in self.properties.items() if k.startswith(_STORE_PREFIXES))
        )
        key = (scheme, netloc, store)
        with self._lock:
            filesystem = self._filesystems.get(key)
            if filesystem is None:
                filesystem = self._filesystems[key] = self._initialize_fs(scheme, netloc)
        return filesystem

    @classmethod
    def _forget_in_child(cls) -> None:
        cls._filesystems = {}
        cls._lock = threading.Lock()


os.register_at_fork(after_in_child=SharedFileIO._forget_in_child)
