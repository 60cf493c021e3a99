"""Benchmark the embedding path and vector search against their bare baselines, side by side.

1. Embedding throughput: `embed_frame` (what the embedding asset runs) against a bare
   ``model.encode`` on the same texts, same torch threads, interleaved repeats, best of each.
   Target: the asset path >= 0.9x the bare encode.
2. Search at 100k x 384: `VectorStore.search` (LanceDB on S3, ANN index built and tuned by
   `ensure_index`) against an exact numpy top-10 over the same vectors in memory.
   Targets: p50 latency within 2x of numpy, recall@10 >= 0.95 against exact.

Run ``python scripts/bench_embed.py --help`` for options. By default it starts a temporary
SeaweedFS server (stopped by PID at the end), so it needs no running stack.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from data_platform.core.embedding import (
    EMBEDDING_DIM,
    default_threads,
    embed_frame,
    get_embedder,
)
from data_platform.core.generate import generate_reviews
from data_platform.settings import Settings
from data_platform.stack.seaweed import EmbeddedS3
from data_platform.vectors import VectorStore
from data_platform.vectors.exact import exact_search_numpy, recall_from_scores

console = Console(width=140)
DATASET = "bench_reviews"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Vectors: 'real' embeds generated reviews with the asset path (100k rows hold "
            "~23k distinct texts, embedded once each: 2-7 minutes on 2 cores); 'random' draws "
            "uniform unit vectors, which have no neighbourhood structure: every ANN index then "
            "needs a near-full scan for recall 0.95, so expect the search targets to FAIL."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--texts", type=int, default=1000, help="texts in the throughput test")
    parser.add_argument("--repeats", type=int, default=6, help="interleaved runs per method")
    parser.add_argument("--threads", type=int, default=default_threads(), help="torch threads")
    parser.add_argument("--rows", type=int, default=100_000, help="vectors in the search test")
    parser.add_argument("--vectors", choices=["real", "random"], default="real")
    parser.add_argument("--queries", type=int, default=100, help="timed search queries")
    parser.add_argument(
        "--store",
        choices=["temp-s3", "settings", "local"],
        default="temp-s3",
        help="temp-s3: a throwaway SeaweedFS; settings: the store of DP_* env; local: a folder",
    )
    parser.add_argument(
        "--index-type", choices=["IVF_FLAT", "IVF_PQ", "IVF_HNSW_SQ"], default="IVF_FLAT"
    )
    parser.add_argument(
        "--vectors-cache",
        type=Path,
        default=None,
        help="a .npy file: reuse real embeddings from an earlier run, or save them there",
    )
    parser.add_argument("--skip-embed", action="store_true", help="skip the throughput test")
    parser.add_argument("--skip-search", action="store_true", help="skip the search test")
    return parser.parse_args(argv)


def elapsed(fn: Callable[[], object]) -> float:
    return timed_ms(fn) / 1000


def verdict(ok: bool) -> str:
    return "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]"


def bench_embedding(args: argparse.Namespace) -> bool:
    import torch

    embedder = get_embedder(threads=args.threads)
    frame = generate_reviews(args.texts, seed=1).select("review_id", "text")
    texts = frame["text"].to_list()
    distinct = frame["text"].n_unique()
    torch.set_num_threads(args.threads)  # the bare baseline runs with the same threads
    embedder.model.encode(texts[:64])  # warm-up
    methods: dict[str, Callable[[], object]] = {
        "bare": lambda: embedder.model.encode(texts, normalize_embeddings=True),
        "asset": lambda: embed_frame(frame, embedder=embedder),
        "asset_nodedup": lambda: embed_frame(frame, embedder=embedder, dedup=False),
    }
    runs: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for repeat in range(args.repeats):
        # interleaved in a rotating order, so background load and position hit all alike
        for name in names[repeat % 3 :] + names[: repeat % 3]:
            runs[name].append(elapsed(methods[name]))
    rate = {name: len(texts) / min(times) for name, times in runs.items()}
    table = Table(
        title=f"Embedding throughput: {len(texts)} reviews ({distinct} distinct), "
        f"{args.threads} torch thread(s), best of {args.repeats}"
    )
    for column in ("path", "texts/s", "vs bare", "target >= 0.9x"):
        table.add_column(column)
    table.add_row("bare model.encode (batch 32)", f"{rate['bare']:.0f}", "1.00x", "")
    passed = True
    for name, label in (
        ("asset", "embed_frame (asset path)"),
        ("asset_nodedup", "embed_frame, dedup off"),
    ):
        ratio = rate[name] / rate["bare"]
        passed &= ratio >= 0.9
        table.add_row(label, f"{rate[name]:.0f}", f"{ratio:.2f}x", verdict(ratio >= 0.9))
    console.print(table)
    return passed


def make_vectors(args: argparse.Namespace) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The table's rows (with vectors), the matrix, and held-out query vectors."""
    frame = generate_reviews(args.rows, seed=0).select(
        "review_id", "text", "category", "created_at"
    )
    if args.vectors == "random":
        rng = np.random.default_rng(0)
        matrix = rng.standard_normal((args.rows + args.queries, EMBEDDING_DIM)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix, queries = matrix[: args.rows], matrix[args.rows :]
        frame = frame.with_columns(pl.Series("vector", matrix, pl.Array(pl.Float32, EMBEDDING_DIM)))
        return frame, matrix, queries
    embedder = get_embedder(threads=args.threads)
    cache = args.vectors_cache
    if cache is not None and cache.exists():
        matrix = np.load(cache)
        if matrix.shape != (args.rows, EMBEDDING_DIM):
            raise SystemExit(f"{cache} holds {matrix.shape}, not ({args.rows}, {EMBEDDING_DIM})")
        console.print(f"loaded {args.rows} embeddings from {cache} (embedded on an earlier run)")
        frame = frame.with_columns(pl.Series("vector", matrix, pl.Array(pl.Float32, EMBEDDING_DIM)))
    else:
        started = time.perf_counter()
        frame = embed_frame(frame, embedder=embedder)
        seconds = time.perf_counter() - started
        console.print(
            f"embedded {args.rows} rows ({frame['text'].n_unique()} distinct texts) with the "
            f"asset path in {seconds:.1f} s: {args.rows / seconds:.0f} rows/s"
        )
        if cache is not None:
            np.save(cache, frame["vector"].to_numpy())
    query_texts = generate_reviews(args.queries, seed=999)["text"].to_list()
    return frame, frame["vector"].to_numpy(), embedder.encode(query_texts)


def open_store(
    args: argparse.Namespace, tmp: Path
) -> tuple[Callable[..., VectorStore], EmbeddedS3 | None]:
    """A factory of VectorStores on the chosen storage, and the temporary server if any."""
    if args.store == "local":
        return lambda **kw: VectorStore(str(tmp / "lance"), **kw), None
    stack = None
    if args.store == "settings":
        settings = Settings()
    else:
        stack = EmbeddedS3(tmp / "stack", buckets=("lake",))
        state = stack.up()
        settings = Settings(
            home=tmp,
            s3_endpoint=state.endpoint,
            s3_access_key=state.access_key,
            s3_secret_key=state.secret_key,
            bucket="lake",
        )
    return lambda **kw: VectorStore.from_settings(settings, **kw), stack


def timed_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def bench_search(args: argparse.Namespace) -> bool:
    frame, matrix, queries = make_vectors(args)
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        make_store, stack = open_store(args, Path(tmp))
        store = make_store()
        try:
            return _search_rounds(args, store, make_store(row_cache_rows=0), frame, matrix, queries)
        finally:
            store.drop(DATASET)
            if stack is not None:
                stack.down()


def _search_rounds(
    args: argparse.Namespace,
    store: VectorStore,
    uncached: VectorStore,
    frame: pl.DataFrame,
    matrix: np.ndarray,
    queries: np.ndarray,
) -> bool:
    started = time.perf_counter()
    store.drop(DATASET)
    store.upsert(DATASET, frame, "review_id")
    console.print(
        f"wrote {frame.height} vectors to {store.uri} in {time.perf_counter() - started:.1f} s"
    )
    report = store.ensure_index(DATASET, index_type=args.index_type)
    console.print(
        f"index {report.index_type}: [bold]built in {report.seconds:.1f} s[/], "
        f"{report.num_partitions} partitions; tuned search effort {report.search_effort} "
        f"(recall@10 {report.recall:.3f} on 100 sampled rows)"
    )
    row_of = {rid: i for i, rid in enumerate(frame["review_id"].to_list())}
    runners = {
        "numpy": lambda q: exact_search_numpy(matrix, q, 10),
        "cached": lambda q: store.search(DATASET, q, k=10),
        "uncached": lambda q: uncached.search(DATASET, q, k=10),
    }
    for query in queries[:10]:  # warm-up: LanceDB's index cache, the row cache, numpy pages
        for run in runners.values():
            run(query)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for query in queries:  # interleaved, so background load hits every method alike
        for name, run in runners.items():
            times[name].append(timed_ms(lambda run=run, query=query: run(query)))
    texts = generate_reviews(20, seed=4242)["text"].to_list()
    store.query_vector("warm-up")  # loads the model once, outside the timings
    times["text"] = [timed_ms(lambda t=t: store.search(DATASET, t, k=10)) for t in texts]
    flat = [timed_ms(lambda q=q: store.search(DATASET, q, k=10, exact=True)) for q in queries[:5]]
    found, exact = [], []
    for query in queries:
        ids = store.search(DATASET, query, k=10)["review_id"].to_list()
        found.append(matrix[[row_of[i] for i in ids]] @ query)
        exact.append(matrix[exact_search_numpy(matrix, query, 10)] @ query)
    recall = recall_from_scores(found, np.array(exact), 10)
    p50 = {name: statistics.median(values) for name, values in times.items()}
    p95 = {name: float(np.percentile(values, 95)) for name, values in times.items()}
    ratio = p50["cached"] / p50["numpy"]
    cache = store.row_cache_info(DATASET) or {"bytes": 0}
    table = Table(
        title=f"Search: {frame.height} x {EMBEDDING_DIM} ({args.vectors} vectors) in "
        f"{store.uri}, top-10, {len(queries)} queries"
    )
    for column in ("search", "p50 ms", "p95 ms", "vs numpy", "recall@10", "target"):
        table.add_column(column)
    table.add_row(
        "numpy exact, in memory", f"{p50['numpy']:.1f}", f"{p95['numpy']:.1f}", "1.00x", "1.000", ""
    )
    table.add_row(
        f"VectorStore.search: {report.index_type}, effort {report.search_effort}, "
        f"row cache {cache['bytes'] / 1e6:.1f} MB",
        f"{p50['cached']:.1f}",
        f"{p95['cached']:.1f}",
        f"{ratio:.2f}x",
        f"{recall:.3f}",
        f"<= 2x {verdict(ratio <= 2.0)}, recall >= 0.95 {verdict(recall >= 0.95)}",
    )
    for name, label in (
        ("uncached", "  same, no row cache (columns read from storage)"),
        ("text", "  same, by text (embeds the query first)"),
    ):
        table.add_row(
            label,
            f"{p50[name]:.1f}",
            f"{p95[name]:.1f}",
            f"{p50[name] / p50['numpy']:.2f}x",
            "",
            "",
        )
    table.add_row("  flat scan, no index (exact=True), 5 queries", f"{statistics.median(flat):.1f}")
    console.print(table)
    return ratio <= 2.0 and recall >= 0.95


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    passed = True
    if not args.skip_embed:
        passed &= bench_embedding(args)
    if not args.skip_search:
        passed &= bench_search(args)
    console.print("all targets: " + verdict(passed))
    return 0  # the verdict is in the PASS/FAIL lines; a non-zero exit means the script broke


if __name__ == "__main__":
    sys.exit(main())
