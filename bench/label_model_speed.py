"""Label-model speed, memory and accuracy vs Snorkel and crowd-kit, with DuckDB as floor.

Synthetic votes: n items x 20 LFs x 3 classes, each LF votes on ~40% of items with its own
confusion matrix (diagonal 0.55-0.9). Each method runs fit + predict_proba in its own child
process (peak RSS: the child's own VmHWM, see bench/_peak.py), in the peers' environment
(bench/setup_peers.sh):
- labelwatch LabelModel (device auto)         - snorkel 0.10 LabelModel (defaults)
- crowd-kit DawidSkene (long-format votes; the conversion is timed too)
- DuckDB: SELECT lf, label, count(*) ... GROUP BY over the same votes (one scan: the floor)
Prints median wall time, peak RSS, accuracy, and each time as a ratio to the faster peer.
Usage: bench/.peers-venv/bin/python bench/label_model_speed.py [--sizes 1000000,10000000]
       [--repeat 3] [--device cpu] [--skip crowdkit@10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _peak import SNIPPET, peak_mib, results_line

ROOT = Path(__file__).resolve().parents[1]
N_LFS, K, COVERAGE = 20, 3, 0.4

CHILD = {
    "labelwatch": """
import sys, time, numpy as np
from fusion import LabelModel
L = np.load(sys.argv[1]); y = np.load(sys.argv[2])
t = time.perf_counter()
P = LabelModel(3, seed=0, device=sys.argv[3]).fit(L).predict_proba(L)
print(time.perf_counter() - t, (P.argmax(1) == y).mean())
""",
    "snorkel": """
import sys, time, numpy as np
from snorkel.labeling.model import LabelModel
L = np.load(sys.argv[1]); y = np.load(sys.argv[2])
t = time.perf_counter()
m = LabelModel(cardinality=3, verbose=False); m.fit(L.astype(np.int64), seed=0, progress_bar=False)
P = m.predict_proba(L.astype(np.int64))
print(time.perf_counter() - t, (P.argmax(1) == y).mean())
""",
    "crowdkit": """
import sys, time, numpy as np, pandas as pd
from crowdkit.aggregation import DawidSkene
L = np.load(sys.argv[1]); y = np.load(sys.argv[2])
t = time.perf_counter()
rows, cols = np.nonzero(L != -1)
df = pd.DataFrame({"task": rows, "worker": cols, "label": L[rows, cols]})
P = DawidSkene(n_iter=100).fit_predict_proba(df)
pred = np.full(len(y), -1); pred[P.index.to_numpy()] = P.to_numpy().argmax(1)
print(time.perf_counter() - t, (pred == y).mean())
""",
    "duckdb": """
import sys, time, duckdb
con = duckdb.connect()
t = time.perf_counter()
sql = "SELECT lf, label, count(*) FROM read_parquet(?) GROUP BY ALL"
con.execute(sql, [sys.argv[4]]).fetchall()
print(time.perf_counter() - t, "nan")
""",
}


def make_data(directory: Path, n: int, n_lfs: int = N_LFS) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, K, size=n).astype(np.int8)
    L = np.full((n, n_lfs), -1, dtype=np.int8)
    for j in range(n_lfs):
        confusion = rng.dirichlet(np.ones(K), size=K)
        diagonal = rng.uniform(0.55, 0.9, size=K)
        confusion = (
            confusion * (1 - diagonal)[:, None] / (confusion.sum(1) - np.diag(confusion))[:, None]
        )
        np.fill_diagonal(confusion, diagonal)
        fires = rng.random(n) < COVERAGE
        cumulative = confusion.cumsum(axis=1)[y[fires]]
        L[fires, j] = (rng.random(int(fires.sum()))[:, None] > cumulative).sum(axis=1)
    paths = directory / f"L{n}.npy", directory / f"y{n}.npy", directory / f"votes{n}.parquet"
    np.save(paths[0], L)
    np.save(paths[1], y)
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, cols = np.nonzero(L != -1)
    pq.write_table(
        pa.table({"item": rows, "lf": cols.astype(np.int16), "label": L[rows, cols]}), paths[2]
    )
    return paths


def run_child(
    method: str, paths: tuple[Path, Path, Path], device: str
) -> tuple[float, float, float]:
    """(seconds, peak RSS MiB, accuracy) of one child running method."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD[method] + SNIPPET,
                str(paths[0]),
                str(paths[1]),
                device,
                str(paths[2]),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _, status, _usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        log.seek(0)
        output = log.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{method} failed:\n{output}")
    compute, accuracy = results_line(output).split()
    return float(compute), seconds, peak_mib(output), float(accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--skip", default="crowdkit@10000000", help="method@size pairs to skip, comma-separated"
    )
    parser.add_argument("--methods", default="duckdb,labelwatch,snorkel,crowdkit")
    parser.add_argument("--lfs", type=int, default=N_LFS, help="labeling functions (columns)")
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_into:
        make_data(args.generate_into, int(args.sizes), args.lfs)
        return
    skip = set(filter(None, args.skip.split(",")))
    results = []
    with tempfile.TemporaryDirectory(prefix="lw-speed-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            # generated in a child: a forked child's peak RSS starts at its parent's RSS
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--generate-into",
                    tmp,
                    "--sizes",
                    str(n),
                    "--lfs",
                    str(args.lfs),
                ],
                check=True,
            )
            paths = (
                Path(tmp) / f"L{n}.npy",
                Path(tmp) / f"y{n}.npy",
                Path(tmp) / f"votes{n}.parquet",
            )
            for method in args.methods.split(","):
                if f"{method}@{n}" in skip:
                    print(f"skipped {method} at {n:,} (--skip)", flush=True)
                    continue
                repeat = 1 if method == "crowdkit" else args.repeat
                runs = [run_child(method, paths, args.device) for _ in range(repeat)]
                row = {
                    "n": n,
                    "method": method,
                    "median_s": statistics.median(r[0] for r in runs),
                    "runs_s": [round(r[0], 2) for r in runs],
                    "process_s": statistics.median(r[1] for r in runs),
                    "peak_rss_mib": max(r[2] for r in runs),
                    "accuracy": runs[0][3],
                }
                results.append(row)
                print(json.dumps(row), flush=True)
    print_table(results)


def print_table(results: list[dict]) -> None:
    print(
        f"\nfit + predict_proba, LFs as generated x {K} classes, ~{COVERAGE:.0%} coverage per LF; "
        "medians; compute = timed inside the process (fit, predict, format conversion), "
        "process = the whole child with interpreter and imports; "
        "ratio = compute / the faster peer's compute at that size"
    )
    print(
        f"{'items':>11s} {'method':11s} {'compute s':>10s} {'process s':>10s} {'peak MiB':>9s} "
        f"{'accuracy':>9s} {'ratio':>6s}"
    )
    for row in results:
        peers = [
            r["median_s"]
            for r in results
            if r["n"] == row["n"] and r["method"] in {"snorkel", "crowdkit"}
        ]
        ratio = f"{row['median_s'] / min(peers):6.3f}" if peers else "   n/a"
        print(
            f"{row['n']:>11,} {row['method']:11s} {row['median_s']:10.2f} {row['process_s']:10.2f} "
            f"{row['peak_rss_mib']:9.0f} {row['accuracy']:9.4f} {ratio}"
        )


if __name__ == "__main__":
    main()
