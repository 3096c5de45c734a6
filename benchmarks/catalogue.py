"""Query times over a synthetic catalogue of N result rows (default 1,000,000).

    python benchmarks/catalogue.py [--rows 1000000] [--runs 4] [--keep DIR]

Generates `runs` runs of rows/runs pairs each (later runs redo a share of the pairs, as a
catalogue does), then times `tryon.catalogue.load` and the README's example queries. Prints
numbers; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

import tryon.catalogue as cat
from tryon.catalogue.schema import result_schema
from tryon.catalogue.store import Catalogue
from tryon.examples import EXAMPLE_QUERIES
from tryon.session import metric_columns


def generate(root: Path, rows: int, runs: int, shard_rows: int = 50_000) -> Catalogue:
    catalogue = Catalogue(root).create()
    rng = np.random.default_rng(0)
    metrics = metric_columns()
    schema = result_schema(metrics, {"sku": pa.string()})
    per_run = rows // runs
    pairs = per_run
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for run_index in range(runs):
        run_id = f"202611{run_index + 1:02d}T020000-{run_index:06x}"
        catalogue.write_run({"run_id": run_id, "status": "finished", "kind": "run", "engine": "sdxl",
                             "started_at": start + timedelta(days=run_index), "pairs_total": pairs})
        ids = rng.permutation(pairs)[:per_run]
        for shard, offset in enumerate(range(0, per_run, shard_rows)):
            chunk = ids[offset : offset + shard_rows]
            n = len(chunk)
            failed = rng.random(n) < 0.03
            columns = {
                "pair_id": [f"p{i:07d}" for i in chunk],
                "row_index": chunk.astype(np.int64),
                "status": np.where(failed, "failed", "succeeded"),
                "error_type": np.where(failed, rng.choice(["no_person", "person_cut_off", "nan_output", "corrupt_image"], n), None),
                "category": rng.choice(["upper_body", "lower_body", "dresses"], n),
                "output_sha256": [f"{x:064x}" for x in rng.integers(0, 2**62, n)],
                "engine": ["sdxl"] * n,
                "config_hash": [f"cfg{run_index % 2}"] * n,
                "seed": rng.integers(0, 2**31, n),
                "finished_at": [start + timedelta(days=run_index)] * n,
                "sku": [f"SKU-{i % 5000:05d}" for i in chunk],
            }
            for metric in metrics:
                field_type = schema.field(metric).type
                if pa.types.is_boolean(field_type):
                    columns[metric] = rng.random(n) < 0.01
                elif pa.types.is_integer(field_type):
                    columns[metric] = rng.integers(1000, 200000, n)
                else:
                    columns[metric] = rng.normal(0.8, 0.1, n)
            table = pa.Table.from_pydict({name: columns.get(name, [None] * n) for name in schema.names}, schema=schema)
            target = catalogue.shard_path(run_id, f"shard-{shard:05d}")
            target.parent.mkdir(parents=True, exist_ok=True)
            import pyarrow.parquet as pq

            pq.write_table(table, target, compression="zstd")
    return catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="write the catalogue here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="tryon-bench-catalogue-"))
    started = time.perf_counter()
    catalogue = generate(root, args.rows, args.runs)
    print(f"generated {args.rows:,} rows in {args.runs} runs at {root} in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    frame = cat.load(catalogue.root)
    print(f"cat.load (latest view -> pandas): {time.perf_counter() - started:.2f}s, {len(frame):,} rows")
    for name, sql in EXAMPLE_QUERIES.items():
        started = time.perf_counter()
        result = cat.query(catalogue.root, sql)
        print(f"{name:<32} {time.perf_counter() - started:6.3f}s  ({len(result)} rows)")


if __name__ == "__main__":
    main()
