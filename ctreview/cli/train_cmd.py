"""``ctreview train``: train an AnoGAN + encoder on normal volumes or tiles."""
from __future__ import annotations

import argparse
import sys
import time

from ctreview.model.config import TILE_SIZES


def add_parser(subparsers) -> None:
    from ctreview.training.settings import TrainSettings

    d = TrainSettings()
    p = subparsers.add_parser(
        "train", help="train an anomaly model on normal volumes",
        description="Train a DCGAN (or WGAN-GP) on ROI tiles of normal volumes, then an f-AnoGAN "
                    "encoder, calibrate a threshold on held-out normal slices and write a model folder.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="volumes, folders of volumes, or training-set folders (manifest.json)")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model folder to write")
    p.add_argument("--profile", default="whole-part", help="ROI profile name or .toml path")
    p.add_argument("--tile-size", type=int, default=d.tile_size, choices=TILE_SIZES)
    p.add_argument("--latent-dim", type=int, default=d.latent_dim)
    p.add_argument("--width", type=int, default=d.width, help="channels of the first conv layer")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--encoder-epochs", type=int, default=d.encoder_epochs, help="default: same as --epochs")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--loss", choices=("dcgan", "wgan-gp"), default=d.loss)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--resume", action="store_true", help="continue from MODEL_DIR/checkpoint.pt")
    p.add_argument("--force", action="store_true",
                   help="replace a model already in MODEL_DIR, and train even on very few tiles")
    p.set_defaults(command="train")


class _Progress:
    """A one-line bar on a terminal, plain lines every few seconds otherwise."""

    def __init__(self, stream=None) -> None:
        # Looked up at call time, not import time, so a redirected stderr is honoured.
        stream = stream or sys.stderr
        self.stream, self.tty, self.last, self.phase = stream, stream.isatty(), 0.0, ""

    def __call__(self, ev) -> None:
        losses = " ".join(f"{k}={v:.3f}" for k, v in ev.losses.items())
        line = f"{ev.phase} epoch {ev.epoch}/{ev.epochs} iter {ev.iteration}/{ev.iterations} {losses}"
        if self.tty:
            done = int(30 * ev.iteration / max(1, ev.iterations))
            print(f"\r[{'#' * done}{'.' * (30 - done)}] {line}\033[K", end="", file=self.stream, flush=True)
            if ev.phase in ("calibrate", "done"):
                print(file=self.stream)
        elif (ev.phase != self.phase or ev.iteration == ev.iterations
              or time.monotonic() - self.last > 5):
            self.phase, self.last = ev.phase, time.monotonic()
            print(line, file=self.stream, flush=True)


def _check_paths(args: argparse.Namespace) -> None:
    """The user errors that need no torch: missing inputs, a model in the way."""
    from pathlib import Path

    from ctreview.errors import CtreviewError
    from ctreview.model.meta import refuse_overwrite

    for item in args.inputs:
        if not Path(item).expanduser().exists():
            raise CtreviewError(item, "training input not found")
    refuse_overwrite(args.out, resume=args.resume, force=args.force)


def run(args: argparse.Namespace) -> int:
    _check_paths(args)  # before the training imports (torch) take seconds
    from ctreview.model import load_model
    from ctreview.progress import drain
    from ctreview.training import TrainSettings, iter_train

    settings = TrainSettings(tile_size=args.tile_size, latent_dim=args.latent_dim, width=args.width,
                             epochs=args.epochs, encoder_epochs=args.encoder_epochs,
                             batch_size=args.batch_size, loss=args.loss, seed=args.seed)
    out = drain(iter_train(args.inputs, args.out, settings, profile=args.profile, device=args.device,
                           resume=args.resume, force=args.force), _Progress())
    model = load_model(out, "cpu")
    cal = model.meta["calibration"]
    print(f"wrote {out} (threshold fast {cal['fast']['threshold']:.3g}, "
          f"search {cal['search']['threshold']:.3g}; {model.meta['data']['tiles']} tiles, "
          f"{model.meta['training']['seconds']:.0f} s)")
    return 0
