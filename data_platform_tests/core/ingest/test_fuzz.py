"""Any bytes in, a verdict out: mutated uploads never crash ingestion, nor lose a row.

Hypothesis mutates valid uploads (truncation, byte flips, other encodings, other
delimiters, control characters and NUL bytes, huge fields, duplicate headers, compression
claims). Whatever comes out: no exception escapes (a reader's Rust panic included), an
accepted upload keeps every row it read through raw and staged, and a refused one has
problems whose message names the object and a row, a column or the file-level reason.
"""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_platform.core.generate import generate_reviews
from data_platform.core.problems import summarise
from data_platform.demo.samples import encode
from data_platform_tests.core.ingest.conftest import ingest_bytes
from data_platform_tests.defs.helpers import sample_contract

CONTRACT = sample_contract("reviews")
VALID = {name: encode(generate_reviews(40, seed=5), name) for name in ("a.csv", "a.jsonl")}


def truncate(data: bytes, at: int) -> bytes:
    return data[: at % max(len(data), 1)]


def flip(data: bytes, at: int, byte: int) -> bytes:
    if not data:
        return data
    i = at % len(data)
    return data[:i] + bytes([byte]) + data[i + 1 :]


def insert(data: bytes, at: int, piece: bytes) -> bytes:
    i = at % max(len(data), 1)
    return data[:i] + piece + data[i:]


MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 10_000)),
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(
        st.just("insert"),
        st.integers(0, 10_000),
        st.sampled_from(
            [b"\x00", b"\x00\x00\x00", b"\r", b"\x1b[31m", b'"', b",,,", b"\t", b"\xff\xfe"]
        ),
    ),
    st.tuples(st.just("huge"), st.integers(0, 10_000), st.integers(10_000, 2_000_000)),
    st.tuples(st.just("encoding"), st.sampled_from(["utf-16", "latin-1", "utf-32", "cp1252"])),
    st.tuples(st.just("delimiter"), st.sampled_from([b";", b"\t", b"|"])),
    st.tuples(st.just("duplicate header"), st.integers(0, 7)),
    st.tuples(st.just("gzip"), st.booleans()),
)


def mutate(data: bytes, mutation: tuple) -> bytes:
    kind, *args = mutation
    if kind == "truncate":
        return truncate(data, args[0])
    if kind == "flip":
        return flip(data, *args)
    if kind == "insert":
        return insert(data, *args)
    if kind == "huge":
        return insert(data, args[0], b"x" * args[1])
    if kind == "encoding":
        text = data.decode("utf-8", errors="replace").replace("The", "Thé")
        return text.encode(args[0], errors="replace")
    if kind == "delimiter":
        return data.replace(b",", args[0])
    if kind == "duplicate header":
        header, _, rest = data.partition(b"\n")
        names = header.split(b",")
        return b",".join([*names, names[args[0] % len(names)]]) + b"\n" + rest
    return gzip.compress(data, mtime=0) if args[0] else data


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    name=st.sampled_from(sorted(VALID)),
    mutations=st.lists(MUTATIONS, min_size=1, max_size=3),
)
def test_mutated_uploads_get_a_verdict_never_a_crash(name, mutations):
    data = VALID[name]
    for mutation in mutations:
        data = mutate(data, mutation)
    verdict, layers = ingest_bytes(CONTRACT, data, name)  # nothing may escape this
    uri = f"s3://lake/landing/reviews/{name}"
    if verdict.ok:
        assert verdict.rows > 0
        assert layers["raw"].height == verdict.rows
        assert layers["staged"].height == verdict.rows  # every row read is published
        return
    assert verdict.problems
    message = summarise(uri, verdict.problems)
    assert message.startswith(uri)
    for problem in verdict.problems:
        assert problem.reason
        described = problem.describe()
        assert described
    if "raw" in layers:  # rows that could be read are all in raw, none dropped
        assert layers["raw"].height == verdict.rows
