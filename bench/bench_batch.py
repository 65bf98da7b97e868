"""Batch triage throughput: 1 vs 2 local workers and 2 Dask workers, and the batch machinery's overhead.

    .venv/bin/python bench/bench_batch.py [--inputs DIR] [--count 8] [--mode hybrid] [--model DIR]

Scores ``--count`` phantom volumes (default: the cached dev transformer set,
128 px, 64 slices) with the bundled transformer model, in one run:

- ``plain``: ``ctreview score VOLUME --out`` as a subprocess, for two volumes
  (what an analyst without batch runs, start-up and model load included);
- ``in-process``: ``run_scoring`` on each volume in this process (the
  scoring work alone, model loaded once);
- ``local-1`` / ``local-2``: ``run_batch`` on 1 and 2 local worker processes
  (wall time from the call to its return: pool start, imports, every volume);
- ``dask-2``: ``run_batch`` on a Dask ``LocalCluster`` of 2 worker processes
  on 127.0.0.1 (cluster start-up reported apart).

Torch threads per worker: ``CTREVIEW_THREADS`` when set, else cores // workers
(both printed). Targets: local-2 >= 1.7x local-1 throughput; batch overhead
per volume < 10 % of a plain ``ctreview score``. The load average is printed
before and after: on a shared machine the figures are only as good as it is idle.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_INPUTS = Path("/work/cache/phantoms/dev-transformer")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def plain_score(volumes: list[Path], model: Path, mode: str, root: Path) -> list[float]:
    """Seconds of ``ctreview score`` as a fresh process per volume."""
    out = []
    for i, path in enumerate(volumes):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ctreview", "score", str(path), "--model", str(model),
                        "--out", str(root / f"plain-{i}"), "--mode", mode], check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def in_process(volumes: list[Path], model_dir: Path, mode: str, root: Path) -> list[float]:
    """Seconds of ``run_scoring`` per volume in this process (open, ROI, score, write).

    Torch threads: ``CTREVIEW_THREADS``, else every core, as one local worker gets.
    """
    from ctreview.io import open_volume
    from ctreview.model import load_model
    from ctreview.progress import drain
    from ctreview.scoring import ScoringSettings, run_scoring

    model = load_model(model_dir, "cpu")
    out = []
    for i, path in enumerate(volumes):
        t0 = time.perf_counter()
        drain(run_scoring(open_volume(path), model, ScoringSettings(mode=mode), out=root / f"inproc-{i}"))
        out.append(time.perf_counter() - t0)
    return out


def batch(volumes: list[Path], model: Path, mode: str, out: Path, **kw) -> tuple[float, object]:
    from ctreview.batch import run_batch
    from ctreview.progress import drain
    from ctreview.scoring import ScoringSettings

    t0 = time.perf_counter()
    summary = drain(run_batch(volumes, model, ScoringSettings(mode=mode), out, **kw))
    wall = time.perf_counter() - t0
    assert summary.totals["done"] == len(volumes), summary.totals
    return wall, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--plain", type=int, default=2, help="volumes scored by plain `ctreview score`")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    from ctreview.batch.executors import threads_per_worker
    from ctreview.model import bundled_model_path

    volumes = sorted(args.inputs.glob("*.tif"))[: args.count]
    model = args.model or bundled_model_path("transformer")
    fig: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_before": load(),
                              "volumes": len(volumes), "mode": args.mode, "model": str(model),
                              "threads": {"1": threads_per_worker(1), "2": threads_per_worker(2)}}
    print(f"{len(volumes)} volumes from {args.inputs}, mode {args.mode}; load {fig['load_before']}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plain = plain_score(volumes[: args.plain], model, args.mode, root)
        print(f"plain `ctreview score`: {sum(plain) / len(plain):.2f} s/volume", flush=True)
        inproc = in_process(volumes, model, args.mode, root)
        print(f"in-process run_scoring: {sum(inproc) / len(inproc):.2f} s/volume", flush=True)
        one, s1 = batch(volumes, model, args.mode, root / "local-1", workers=1)
        print(f"local-1: {one:.1f} s", flush=True)
        two, s2 = batch(volumes, model, args.mode, root / "local-2", workers=2)
        print(f"local-2: {two:.1f} s", flush=True)
        dask, start = dask_batch(volumes, model, args.mode, root / "dask-2")
        print(f"dask-2: {dask:.1f} s (+ {start:.1f} s cluster start)", flush=True)
        task_s = sum(r.seconds for r in s1.rows) / len(s1.rows)  # type: ignore[attr-defined]
    per_plain, per_inproc = sum(plain) / len(plain), sum(inproc) / len(inproc)
    fig.update({
        "plain_score_s_per_volume": round(per_plain, 2), "in_process_s_per_volume": round(per_inproc, 2),
        "local1_s": round(one, 1), "local2_s": round(two, 1), "dask2_s": round(dask, 1),
        "dask_cluster_start_s": round(start, 1), "local1_task_s_per_volume": round(task_s, 2),
        "throughput_local2_over_local1": round(one / two, 2), "throughput_dask2_over_local1": round(one / dask, 2),
        "overhead_vs_plain_score": round((one / len(volumes) - per_plain) / per_plain, 3),
        "overhead_vs_in_process": round((one / len(volumes) - per_inproc) / per_inproc, 3),
        "task_overhead_vs_in_process": round((task_s - per_inproc) / per_inproc, 3),
        "load_after": load(),
    })
    print(json.dumps(fig, indent=1))
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1))


def dask_batch(volumes: list[Path], model: Path, mode: str, out: Path) -> tuple[float, float]:
    import logging

    from distributed import LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        start = time.perf_counter() - t0
        wall, _ = batch(volumes, model, mode, out, scheduler=cluster.scheduler_address)
    return wall, start


if __name__ == "__main__":
    main()
