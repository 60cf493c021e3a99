"""Lance's own log: errors only by default, its index-building warnings on request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# An IVF-PQ index on 300 vectors, 290 of them the same: Lance's KMeans leaves most of the
# clusters empty and warns about it (on stderr, from Rust) unless its log is quieter.
BUILD_INDEX = """
import tempfile
import numpy as np
import pyarrow as pa
import data_platform.embedding  # sets the platform's default before lancedb loads
import lancedb

vectors = np.random.default_rng(0).random((300, 8), dtype=np.float32)
vectors[:290] = vectors[0]
db = lancedb.connect(tempfile.mkdtemp())
table = db.create_table(
    "t", pa.table({"vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), 8)})
)
table.create_index(vector_column_name="vector", num_partitions=64, num_sub_vectors=2)
"""


@pytest.mark.parametrize(("setting", "warned"), [(None, False), ("warn", True)])
def test_index_warnings_are_quiet_unless_asked_for(tmp_path, setting, warned):
    env = {k: v for k, v in os.environ.items() if k != "LANCEDB_LOG"}
    if setting:
        env["LANCEDB_LOG"] = setting
    done = subprocess.run(
        [sys.executable, "-c", BUILD_INDEX],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("KMeans" in done.stderr) == warned, done.stderr[-2000:]
