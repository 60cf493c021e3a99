"""Large transfers: multipart with a chosen part size, streams, checksums that round-trip."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pytest

from data_platform.storage import ObjectStore
from data_platform.storage.checksum import sha256_file

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


class GeneratedStream(io.RawIOBase):
    """`total` deterministic pseudo-random bytes, made as they are read (never all in memory).

    Made in fixed 64 KiB blocks, so the bytes do not depend on how the reader chunks them.
    """

    BLOCK = 64 * 1024

    def __init__(self, total: int, seed: int = 7) -> None:
        self._left = total
        self._rng = random.Random(seed)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        if len(self._buffer) < size:
            blocks = -(-(size - len(self._buffer)) // self.BLOCK)
            made = [self._rng.randbytes(self.BLOCK) for _ in range(blocks)]
            self._buffer = b"".join([self._buffer, *made])
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        self._left -= size
        return out


def _sha256_of(stream: io.RawIOBase) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


def test_put_file_multipart_with_chosen_part_size(store: ObjectStore, tmp_path: Path):
    source = tmp_path / "twelve.bin"
    source.write_bytes(random.Random(1).randbytes(12 * MIB))
    sent: list[int] = []
    info = store.put_file("files/twelve.bin", source, part_size=5 * MIB, progress=sent.append)
    assert info.etag.endswith("-3")  # 5 + 5 + 2 MiB: three parts
    assert sum(sent) == 12 * MIB
    assert info.checksum == sha256_file(source)
    assert info.size == 12 * MIB
    received: list[int] = []
    back = store.get_file("files/twelve.bin", tmp_path / "back.bin", progress=received.append)
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    assert back.checksum == info.checksum
    assert sum(received) == 12 * MIB


def test_small_file_is_one_part_and_gets_a_content_type(store: ObjectStore, tmp_path: Path):
    source = tmp_path / "table.csv"
    source.write_text("a,b\n1,2\n")
    info = store.put_file("files/table.csv", str(source), metadata={"rows": "1"})
    assert "-" not in info.etag
    assert (info.content_type, info.metadata) == ("text/csv", {"rows": "1"})
    assert store.get_bytes("files/table.csv") == b"a,b\n1,2\n"


def test_put_stream_of_unknown_length(store: ObjectStore, tmp_path: Path):
    expected = _sha256_of(GeneratedStream(11 * MIB))
    info = store.put_stream("streams/s.bin", GeneratedStream(11 * MIB), part_size=5 * MIB)
    assert (info.size, info.checksum) == (11 * MIB, expected)
    assert info.etag.endswith("-3")
    assert store.stat("streams/s.bin").checksum == expected  # recorded after the upload
    store.get_file("streams/s.bin", tmp_path / "s.bin")
    assert sha256_file(tmp_path / "s.bin") == expected


def test_get_file_into_place_only_when_verified(store: ObjectStore, tmp_path: Path):
    store.put_bytes("v", b"verified")
    target = tmp_path / "out" / "v.bin"
    target.parent.mkdir()
    info = store.get_file("v", target, expected_sha256=hashlib.sha256(b"verified").hexdigest())
    assert target.read_bytes() == b"verified"
    assert info.size == 8
    assert [p.name for p in target.parent.iterdir()] == ["v.bin"]


@pytest.mark.slow
def test_multipart_upload_of_100_mb_round_trips_with_the_same_checksum(
    store: ObjectStore, tmp_path: Path
):
    size = 105 * MIB
    expected = _sha256_of(GeneratedStream(size, seed=42))
    info = store.put_stream(
        "big/blob.bin", GeneratedStream(size, seed=42), length=size, part_size=16 * MIB
    )
    assert info.etag.endswith("-7")  # ceil(105 / 16) parts
    assert (info.size, info.checksum) == (size, expected)
    assert store.stat("big/blob.bin").checksum == expected
    store.get_file("big/blob.bin", tmp_path / "blob.bin")  # verifies against the record
    assert sha256_file(tmp_path / "blob.bin") == expected


def test_part_size_outside_limits_is_rejected(store: ObjectStore, tmp_path: Path):
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="part size"):
        store.put_file("f", tmp_path / "f", part_size=1024)
    with pytest.raises(ValueError, match="part size"):
        ObjectStore(store.client, store.bucket, part_size=MIB)
