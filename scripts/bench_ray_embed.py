"""Embedding on the local Ray cluster at 1, 2, 3 nodes vs one process, and Ray's per-task cost.

It starts its own 3-node cluster (`LocalRayCluster`, one CPU per node) in a short folder
under /tmp, and prints, side by side in one run:

- single: `embed_frame` in this process (one torch thread), after a warm-up.
- ray xK: `embed_on_ray` with K actors (one per node: each node has one CPU), median of
  `--repeats`; "with start" includes the actor pool's start and K model loads; "model
  loads + map" is that total minus a no-op pass of the same shape (Ray Data's own cost).
- per-task overhead: the mean wall time of `--tasks` trivial Ray tasks, and of one no-op
  Ray Data block.

On this 2-core machine three nodes cannot be faster than one process; the report states
the cost, and the expected scaling on real nodes from the measured overhead.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from data_platform.embedding.model import embed_frame, get_embedder
from data_platform.ops.stack.ray_cluster import LocalRayCluster
from data_platform.ray.batches import BatchModel, embed_on_ray, map_on_ray
from data_platform.ray.driver import ray_driver
from data_platform.synthetic import generate_reviews


class NoOp(BatchModel):
    """Returns nothing but the row numbers: Ray Data's own cost per block."""

    def apply(self, batch: pa.Table) -> dict[str, Any]:
        return {}


def _noop(_: int) -> int:
    return 0


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000, help="distinct texts to embed")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats (median)")
    parser.add_argument("--tasks", type=int, default=200, help="trivial tasks for the overhead")
    args = parser.parse_args()

    rows = generate_reviews(args.texts, seed=5).select("review_id", "text").unique("text")
    embedder = get_embedder(threads=1)
    embed_frame(rows.head(32), "text", embedder=embedder)  # warm-up: model loaded
    single = statistics.median(
        timed(lambda: embed_frame(rows, "text", embedder=embedder)) for _ in range(args.repeats)
    )
    print(f"{rows.height} texts; single process: {single:.2f}s ({rows.height / single:.0f}/s)")

    root = Path(tempfile.mkdtemp(prefix="dpbench-"))
    cluster = LocalRayCluster(root, workers=2, cpus=1, object_store_mb=200)
    started = time.perf_counter()
    state = cluster.up()
    print(f"cluster of 3 nodes up in {time.perf_counter() - started:.1f}s")
    try:
        with ray_driver(state.address, state.token_file) as ray:
            noop = ray.remote(num_cpus=1)(_noop)
            ray.get([noop.remote(i) for i in range(10)])  # workers exist
            per_task = timed(lambda: ray.get([noop.remote(i) for i in range(args.tasks)]))
            print(f"per-task overhead: {per_task / args.tasks * 1000:.1f} ms (trivial task)")
            table = rows.select("text").to_arrow()
            for nodes in (1, 2, 3):
                empty = statistics.median(
                    timed(lambda n=nodes: map_on_ray(table, NoOp, model_kwargs={}, actors=n))
                    for _ in range(args.repeats)
                )
                total = statistics.median(
                    timed(lambda n=nodes: embed_on_ray(rows, "text", actors=n))
                    for _ in range(args.repeats)
                )
                steady = max(total - empty, 1e-9)
                print(
                    f"ray x{nodes} node(s): with start {total:.2f}s ({single / total:.2f}x "
                    f"single), no-op pass {empty:.2f}s, model loads + map {steady:.2f}s "
                    f"({single / steady:.2f}x single)"
                )
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)
    print(
        "expected on real nodes (one core each, no sharing): map time ~ single / nodes "
        "+ the per-task overhead x blocks; the start (actors, model loads) is paid once per run"
    )


if __name__ == "__main__":
    main()
