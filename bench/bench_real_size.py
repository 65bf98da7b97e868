"""Real-size scans: wall time, peak RSS and heatmap size of ``ctreview score`` in a fresh process.

    .venv/bin/python bench/bench_real_size.py [--sizes 512,1024] [--battery] [--full-res-slices 32]

Volumes (written here once, slice by slice, into bench/.cache/real-size/):
* ``transformer-512``: a dev transformer phantom (64 x 128 x 128) resampled x8 along z and x4 in y, x
  (nearest), 512 x 512 x 512 uint16, 256 MiB: the same part as a scan at 4x the resolution;
* ``transformer-1024``: the same x16, x8: 1024^3 uint16, 2 GiB;
* ``transformer-512-crop``: the first ``--full-res-slices`` ROI slices of the 512^3 volume, scored with
  ``--binning 1`` (full resolution), to give the per-slice cost when a model is trained at that scale;
* the Li-ion cell ``../shared/data/battery_xct/data/cell_vol`` (100 x 728 x 728 uint8) with a fused model
  trained on its first 50 slices binned 2x2x2 (25 x 364 x 364; ``--battery``; cached in
  bench/.cache/models/battery): the whole scan is then scored binned 2x2x2 by default; slices 50-99 are unseen.
Each run is ``ctreview score VOLUME --model M --out RUN`` (default mode) in its own process; peak RSS is
that process's ``ru_maxrss`` (os.wait4). Also printed: the arithmetic floor (the model's FLOPs per scored
slice over a measured matmul FLOP/s on this CPU). Writes bench/results/real-size.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache" / "real-size"
BATTERY = ROOT.parent / "shared" / "data" / "battery_xct" / "data" / "cell_vol"


def upsampled(src: Path, factors: tuple[int, int, int], out: Path) -> Path:
    """Write ``src`` resampled by integer ``factors`` (z, y, x) as a contiguous TIFF, one slice at a time."""
    import tifffile

    from ctreview.io import open_volume

    if out.exists():
        return out
    vol = open_volume(src)
    fz, fy, fx = factors
    nz, ny, nx = vol.shape
    shape = (nz * fz, ny * fy, nx * fx)
    tmp = out.with_suffix(".part.tif")
    mm = tifffile.memmap(tmp, shape=shape, dtype=vol.dtype, photometric="minisblack")
    for k in range(nz):
        plane = np.repeat(np.repeat(vol.read(k, k + 1)[0], fy, axis=0), fx, axis=1)
        for j in range(fz):
            mm[k * fz + j] = plane
        if k % 8 == 7:
            mm.flush()
    mm.flush()
    del mm
    tmp.rename(out)
    return out


def cropped(src: Path, z0: int, z1: int, out: Path) -> Path:
    """Slices ``z0:z1`` of ``src`` as a TIFF."""
    import tifffile

    from ctreview.io import open_volume

    if not out.exists():
        tifffile.imwrite(out, open_volume(src).read(z0, z1))
    return out


def measured_run(args: list[str], env: dict[str, str]) -> dict:
    """Run a command; return its wall time (s), peak RSS (MiB) and exit code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": round(time.perf_counter() - t0, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "rc": proc.returncode, "tail": out.strip().splitlines()[-3:]}


def score(volume: Path, model: Path, run: Path, extra: list[str], env: dict[str, str]) -> dict:
    """``ctreview score`` in a fresh process, with what its summary and files say."""
    cli = [sys.executable, "-m", "ctreview", "score", str(volume), "--model", str(model), "--out", str(run), "--force",
           *extra]
    load, date = os.getloadavg()[0], time.strftime("%Y-%m-%d %H:%M")
    row = {"date": date, "load_before": round(load, 2), **measured_run(cli, env),
           "load_after": round(os.getloadavg()[0], 2)}
    summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").exists() else {}
    size = sum(f.stat().st_size for f in volume.rglob("*")) if volume.is_dir() else volume.stat().st_size
    heat = run / "heatmap.tif"
    row.update({"volume": str(volume.relative_to(ROOT.parent)) if volume.is_relative_to(ROOT.parent)
                else volume.name,
                "volume_mib": round(size / 2**20, 1),
                "heatmap_mib": round(heat.stat().st_size / 2**20, 1) if heat.exists() else None,
                "shape": (summary.get("volume") or {}).get("shape"),
                "binning": (summary.get("volume") or {}).get("binning"),
                "slices": (summary.get("counts") or {}).get("slices"),
                "timings": summary.get("timings"), "domain_ok": (summary.get("domain") or {}).get("ok")})
    return row


def matmul_flops(threads: int) -> float:
    """Measured float32 matmul FLOP/s on this CPU with ``threads`` torch threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    t0, n = time.perf_counter(), 20
    for _ in range(n):
        a @ b
    return 2 * 1024**3 * n / (time.perf_counter() - t0)


def slice_flops(model_dir: Path, size: int) -> float:
    """Multiply-add FLOPs of the model's networks on one ``size`` x ``size`` slice (conv and linear layers)."""
    import torch

    from ctreview.model import load_model

    model = load_model(model_dir, "cpu")
    total = 0.0
    nets: dict[int, torch.nn.Module] = {}

    def walk(obj: object, depth: int) -> None:  # the networks a model holds, however deep in its scorers
        if isinstance(obj, torch.nn.Module):
            nets.setdefault(id(obj), obj)
        elif depth and isinstance(obj, dict):
            for v in obj.values():
                walk(v, depth - 1)
        elif depth and hasattr(obj, "__dict__") and not isinstance(obj, type):
            for v in vars(obj).values():
                walk(v, depth - 1)

    walk(model, 4)
    for net in nets.values():
        first = next((m for m in net.modules() if isinstance(m, torch.nn.Conv2d)), None)
        if first is None:
            continue
        flops = [0.0]

        def hook(mod, _inp, out, flops=flops):
            if isinstance(mod, torch.nn.Conv2d):
                k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
                flops[0] += 2.0 * k * out.numel()

        handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
        try:
            with torch.inference_mode():
                net(torch.zeros(1, first.in_channels, size, size))
        except Exception:  # a network that does not take a plain image (e.g. a generator): not counted
            flops[0] = 0.0
        finally:
            for h in handles:
                h.remove()
        total += flops[0]
    return total


def battery_model(env: dict[str, str]) -> Path:
    """A fused model trained (``ctreview train`` defaults) on the battery scan's first 50 slices (cached)."""
    out = ROOT / "bench" / ".cache" / "models" / "battery"
    if (out / "model.json").exists():
        return out
    import tifffile

    train_dir = CACHE / "battery-train"
    train_dir.mkdir(parents=True, exist_ok=True)
    target = train_dir / "cell_first50_bin2.tif"
    if not target.exists():  # trained at half the resolution: the scan is then scored binned 2x2x2
        from ctreview.io import open_volume
        from ctreview.io.binned import binned

        half = binned(open_volume(BATTERY), (2, 2))
        tifffile.imwrite(target, half.read(0, 25))
    row = measured_run([sys.executable, "-m", "ctreview", "train", str(target), "--out", str(out)], env)
    if row["rc"] != 0:
        raise SystemExit(f"training the battery model failed: {row['tail']}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--battery", action="store_true")
    parser.add_argument("--full-res-slices", type=int, default=32)
    parser.add_argument("--model", type=Path, default=ROOT / "bench" / ".cache" / "models" / "fused-transformer")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    threads = int(env.get("CTREVIEW_THREADS", "2"))
    src = ROOT / "bench" / ".cache" / "phantoms" / "dev-transformer" / "transformer_defect_000.tif"
    rows: dict[str, dict] = {}
    for n in (int(s) for s in args.sizes.split(",") if s):
        f = n // 128
        vol = upsampled(src, (2 * f, f, f), CACHE / f"transformer-{n}.tif")
        rows[f"transformer-{n}"] = score(vol, args.model, CACHE / f"run-{n}", [], env)
        print(f"transformer-{n}: {rows[f'transformer-{n}']}", flush=True)
        if n == 512 and args.full_res_slices:
            crop = cropped(vol, 256 - args.full_res_slices // 2, 256 + args.full_res_slices // 2,
                           CACHE / f"transformer-512-crop{args.full_res_slices}.tif")
            key = f"transformer-512-crop{args.full_res_slices} --binning 1"
            rows[key] = score(crop, args.model, CACHE / "run-512-crop", ["--binning", "1"], env)
            print(f"{key}: {rows[key]}", flush=True)
    if args.battery:
        model = battery_model(env)
        rows["battery cell_vol"] = score(BATTERY, model, CACHE / "run-battery", [], env)
        print(f"battery: {rows['battery cell_vol']}", flush=True)
    flops = matmul_flops(threads)
    floors = {size: slice_flops(args.model, size) for size in (128, 512)}
    result = {"machine": f"{platform.node()} {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d %H:%M"),
              "load": os.getloadavg()[0], "threads": threads, "matmul_gflops": round(flops / 1e9, 1),
              "model_gflop_per_slice": {str(k): round(v / 1e9, 2) for k, v in floors.items()},
              "floor_s_per_slice": {str(k): round(v / flops, 3) for k, v in floors.items()}, "runs": rows}
    out = ROOT / "bench" / "results" / "real-size.json"
    if out.exists():  # runs of other volumes (an earlier call with other --sizes / --battery) stay
        result["runs"] = {**json.loads(out.read_text()).get("runs", {}), **rows}
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
