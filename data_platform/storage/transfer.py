"""Large transfers: files and streams, multipart with a chosen part size, checksummed.

Uploads record the content's SHA-256 as ``x-amz-meta-sha256``; downloads hash what they
receive and raise `IntegrityError` on a mismatch, so a file that round-trips through the
store is the same file, whatever part size cut it up.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import os
from pathlib import Path
from typing import BinaryIO

from data_platform.storage.base import StoreBase
from data_platform.storage.checksum import (
    HashingReader,
    Progress,
    sha256_file,
    upload_metadata,
    verify,
)
from data_platform.storage.metadata import MetadataMixin
from data_platform.storage.models import ObjectInfo, object_info
from data_platform.storage.names import check_key, check_part_size

_COPY_LIMIT = 5 * 1024**3  # one server-side copy (used to record a stream's checksum)
_CHUNK = 1024 * 1024


def _content_type(path: Path, given: str | None) -> str:
    return given or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class TransferMixin(MetadataMixin, StoreBase):
    """File and stream transfers of `ObjectStore`."""

    def _part_size(self, part_size: int | None) -> int:
        size = part_size or self.part_size
        check_part_size(size)
        return size

    def _head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        return object_info(
            self._call(
                "HEAD",
                lambda: self.client.stat_object(self.bucket, key, version_id=version_id),
                key=key,
            )
        )

    def put_file(
        self,
        key: str,
        path: Path | str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        part_size: int | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        """Upload a local file; multipart when it is larger than the part size.

        Args:
            key: Object key.
            path: The local file.
            content_type: Guessed from the file name when None.
            metadata: User metadata.
            part_size: Bytes per part (5 MiB - 5 GiB); the store's default when None.
            progress: Called with each chunk's byte count as it is sent.

        Returns:
            The object's info; `checksum` is the SHA-256 recorded with it.
        """
        check_key(key)
        path = Path(path)
        size = path.stat().st_size
        part = self._part_size(part_size)
        meta = upload_metadata(metadata, sha256_file(path))

        def upload() -> None:
            with open(path, "rb") as handle:
                self.client.put_object(
                    self.bucket,
                    key,
                    HashingReader(handle, progress),  # type: ignore[arg-type]
                    size,
                    content_type=_content_type(path, content_type),
                    metadata=meta,  # type: ignore[arg-type]
                    part_size=part,
                )

        self._call("PUT", upload, key=key)
        return self._head(key)

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        *,
        length: int | None = None,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        part_size: int | None = None,
        progress: Progress | None = None,
        record_checksum: bool = True,
    ) -> ObjectInfo:
        """Upload from a readable stream, of known or unknown (`length=None`) length.

        The SHA-256 is computed while sending. With `record_checksum` it is then stored
        with the object by an in-place metadata update (a server-side copy; skipped above
        5 GiB, S3's copy limit). A stream that cannot seek back is sent only once: a
        transient failure is not retried.

        Returns:
            The object's info; `checksum` is the SHA-256 of the bytes sent.
        """
        check_key(key)
        part = self._part_size(part_size)
        meta = upload_metadata(metadata, None)
        seekable = stream.seekable() if hasattr(stream, "seekable") else False
        start = stream.tell() if seekable else 0
        readers: list[HashingReader] = []

        def upload() -> None:
            if seekable:
                stream.seek(start)
            readers.append(HashingReader(stream, progress))
            self.client.put_object(
                self.bucket,
                key,
                readers[-1],  # type: ignore[arg-type]
                -1 if length is None else length,
                content_type=content_type,
                metadata=meta,  # type: ignore[arg-type]
                part_size=part,
            )

        self._call("PUT", upload, key=key, retry=seekable)
        digest = readers[-1].hexdigest()
        info = self._head(key)
        if record_checksum and info.size <= _COPY_LIMIT:
            info = self._rewrite_metadata(key, info.metadata, info.content_type, checksum=digest)
        return dataclasses.replace(info, checksum=digest)

    def get_file(
        self,
        key: str,
        path: Path | str,
        *,
        version_id: str | None = None,
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> ObjectInfo:
        """Download an object to a local file, verifying its checksum.

        The bytes go to ``<path>.part`` and are renamed onto `path` only once the SHA-256
        matches `expected_sha256`, or else the checksum recorded at upload (when neither is
        known, the download is kept unverified).

        Returns:
            The object's info; `checksum` is the SHA-256 of the bytes received.

        Raises:
            IntegrityError: The received bytes differ from the expected checksum.
        """
        check_key(key)
        target = Path(path)
        partial = target.with_name(target.name + ".part")
        info = self._head(key, version_id)

        def download() -> str:
            response = self.client.get_object(self.bucket, key, version_id=version_id)
            try:
                with open(partial, "wb") as out:
                    reader = HashingReader(response, progress)  # type: ignore[arg-type]
                    while chunk := reader.read(_CHUNK):
                        out.write(chunk)
                return reader.hexdigest()
            finally:
                response.close()
                response.release_conn()

        try:
            digest = self._call("GET", download, key=key)
            verify(expected_sha256 or info.checksum, digest, bucket=self.bucket, key=key)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        return dataclasses.replace(info, checksum=digest)
