"""``ctreview train``: train an anomaly model on normal volumes, training sets or images."""
from __future__ import annotations

import argparse

from ctreview.model.config import TILE_SIZES

ENGINES = ("fused", "anogan")


def add_parser(subparsers) -> None:
    from dataclasses import fields

    from ctreview.cli._options import add_settings_flags
    from ctreview.training.cond_gan_settings import CondGanSettings
    from ctreview.training.detector_settings import DetectorSettings
    from ctreview.training.settings import TrainSettings

    d = TrainSettings()
    # the field's default, not DetectorSettings(): building one imports torch (the features' settings)
    default = next(f.default for f in fields(DetectorSettings) if f.name == "scorers")
    scorers = tuple(str(s) for s in default) if isinstance(default, tuple) else ()
    p = subparsers.add_parser(
        "train", help="train an anomaly model on normal volumes",
        description="Train a model of normality and write a model folder. The default (fused) engine "
                    "fits a deep-feature model of normality, a defect head and a context-conditioned "
                    "AnoGAN on normal slices, then sets their thresholds on normal slices it held out; "
                    "--engine anogan trains the earlier AnoGAN + f-AnoGAN encoder alone.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="volumes, folders of volumes, training-set folders (manifest.json), or with "
                        "--images image files and folders")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model folder to write")
    p.add_argument("--profile", default=None,
                   help="ROI profile name or .toml path (default: whole-part; whole-image with --images)")
    p.add_argument("--images", action="store_true",
                   help="every file (or TIFF page) is an independent image: no context along z")
    p.add_argument("--engine", choices=ENGINES, default="fused", help="fused (default) or anogan")
    p.add_argument("--scorers", default=None,
                   help="fused engine: scorer families, from features, head, anogan, atlas (the "
                        "registered normal volumes' per-voxel mean and spread; volumes only, at least "
                        f"three) (default: {','.join(scorers)})")
    p.add_argument("--fusion", choices=("max", "mean"), default=None,
                   help="fused engine: how the scorers' scaled maps combine, per pixel (default: mean)")
    p.add_argument("--backbone", default="efficientnet-lite0",
                   help="features: efficientnet-lite0 (weights ship with ctreview), resnet18, wide_resnet50_2")
    p.add_argument("--weights", metavar="PATH", default=None,
                   help="features: local backbone weights (.safetensors, or a torch state dict)")
    p.add_argument("--head-iterations", type=int, default=None, help="fused engine: defect-head iterations")
    p.add_argument("--working-size", type=int, default=None, metavar="PX",
                   help="fused engine: bin the scans until the part is at most PX pixels across (default 192); "
                        "scoring bins every scan to the same scale")
    p.add_argument("--binning", type=int, default=None, metavar="N",
                   help="fused engine: bin the largest scan N x N in the plane instead (1: full resolution); "
                        "z follows the voxels' shape")
    p.add_argument("--memory", default=None, metavar="SIZE",
                   help="fused engine: memory budget of the large training structures, e.g. 1.5G "
                        "(default: a quarter of this machine's memory, at most 2G)")
    p.add_argument("--tile-size", type=int, default=d.tile_size, choices=TILE_SIZES)
    p.add_argument("--latent-dim", type=int, default=d.latent_dim)
    p.add_argument("--width", type=int, default=d.width, help="AnoGAN: channels of the first conv layer")
    p.add_argument("--epochs", type=int, default=d.epochs, help="AnoGAN epochs")
    p.add_argument("--encoder-epochs", type=int, default=d.encoder_epochs, help="default: same as --epochs")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--loss", choices=("dcgan", "wgan-gp"), default=d.loss)
    # --latent-dim .. --loss are the --engine anogan model's; the fused engine's AnoGAN family has its own
    add_settings_flags(p, CondGanSettings, prefix="anogan_")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--resume", action="store_true", help="anogan engine: continue from MODEL_DIR/checkpoint.pt")
    p.add_argument("--force", action="store_true",
                   help="replace a model already in MODEL_DIR, and train even on very little data")
    p.set_defaults(command="train")


class _Progress:
    """One bar per training stage (iterations, rate, time left); plain lines when not a terminal."""

    def __init__(self, stream=None) -> None:
        from ctreview.cli._progress import ProgressBar

        self.bar, self.phase = ProgressBar("steps", stream), ""

    def __call__(self, ev) -> None:
        if ev.note:
            print(ev.note, flush=True)
            return
        if ev.phase != self.phase:
            self.phase = ev.phase
            self.bar.start(ev.iterations, ev.phase)
        losses = " ".join(f"{k}={v:.3g}" for k, v in ev.losses.items())
        epoch = f"epoch {ev.epoch}/{ev.epochs}" if ev.phase in ("gan", "encoder") else ""
        self.bar.update(ev.iteration, " ".join(x for x in (epoch, losses) if x))
        if ev.phase == "done":
            self.bar.end()


def _detector_settings(args: argparse.Namespace):
    """The fused engine's :class:`DetectorSettings` from the flags (the train dialog builds them alike)."""
    from dataclasses import fields

    from ctreview.training.cond_gan_settings import CondGanSettings
    from ctreview.training.detector_settings import detector_settings_from

    values = {"scorers": args.scorers, "fusion": args.fusion, "tile_size": args.tile_size, "seed": args.seed,
              "backbone": args.backbone, "weights": args.weights, "head_iterations": args.head_iterations}
    values.update({f"anogan_{f.name}": getattr(args, f"anogan_{f.name}", None) for f in fields(CondGanSettings)})
    return detector_settings_from(values)


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
    from ctreview.errors import CtreviewError
    from ctreview.model import load_model
    from ctreview.progress import drain

    profile = args.profile or ("whole-image" if args.images else "whole-part")
    if args.engine == "anogan":
        if args.images:
            raise CtreviewError(None, "--images trains the fused engine only (the AnoGAN needs whole volumes)")
        from ctreview.training import TrainSettings, iter_train

        settings = TrainSettings(tile_size=args.tile_size, latent_dim=args.latent_dim, width=args.width,
                                 epochs=args.epochs, encoder_epochs=args.encoder_epochs,
                                 batch_size=args.batch_size, loss=args.loss, seed=args.seed)
        out = drain(iter_train(args.inputs, args.out, settings, profile=profile, device=args.device,
                               resume=args.resume, force=args.force), _Progress())
    else:
        from ctreview.training.detector_train import iter_train_detector

        out = drain(iter_train_detector(args.inputs, args.out, _detector_settings(args), profile=profile,
                                        device=args.device, images=args.images,
                                        force=args.force), _Progress())
    model = load_model(out, "cpu")
    cal = model.meta["calibration"]
    if int(model.meta.get("format_version", 1)) >= 2:
        detail = f"scorers {', '.join(model.scorers)}; thresholds set on {cal['held_out_slices']} held-out " \
                 f"normal slices"
    else:
        detail = f"threshold fast {cal['fast']['threshold']:.3g}, search {cal['search']['threshold']:.3g}; " \
                 f"{model.meta['data']['tiles']} tiles"
    print(f"wrote {out} ({detail}, {model.meta['training']['seconds']:.0f} s)")
    return 0
