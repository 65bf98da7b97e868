"""Training checkpoints: tensors, numbers and strings only, read with ``weights_only=True``."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ctreview.errors import CtreviewError

_KEYS = ("tile_size", "latent_dim", "width", "loss", "seed", "batch_size", "lr", "epochs")


def save_checkpoint(path: Path, run: Any) -> None:
    """Write the state of a ``_Run`` atomically."""
    state = {
        "phase": run.phase, "iteration": run.iteration,
        "settings": json.dumps({k: getattr(run.s, k) for k in _KEYS}),
        "history": json.dumps(run.history),
        "G": run.G.state_dict(), "D": run.D.state_dict(), "E": run.E.state_dict(),
        "opt_g": run.opt_g.state_dict(), "opt_d": run.opt_d.state_dict(), "opt_e": run.opt_e.state_dict(),
        "rng": run.gen.get_state(), "fixed_z": run.fixed_z.cpu(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, run: Any, settings: dict) -> None:
    """Restore a ``_Run`` from ``path``; refuse one made with other settings."""
    try:
        state = torch.load(path, map_location=run.device, weights_only=True)
        saved = json.loads(state["settings"])
    except Exception as exc:  # noqa: BLE001 - any failure means an unusable checkpoint
        raise CtreviewError(path, f"unreadable training checkpoint ({exc.__class__.__name__})") from exc
    changed = [k for k in _KEYS if k != "epochs" and saved.get(k) != settings.get(k)]
    if changed:
        raise CtreviewError(path, f"checkpoint was made with other settings ({', '.join(changed)}); "
                                  "use the same settings or another output folder")
    try:
        run.G.load_state_dict(state["G"])
        run.D.load_state_dict(state["D"])
        run.E.load_state_dict(state["E"])
        run.opt_g.load_state_dict(state["opt_g"])
        run.opt_d.load_state_dict(state["opt_d"])
        run.opt_e.load_state_dict(state["opt_e"])
        run.gen.set_state(state["rng"].cpu())
        run.fixed_z = state["fixed_z"].to(run.device)
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CtreviewError(path, f"training checkpoint does not fit this model ({exc})") from exc
    run.phase, run.iteration = str(state["phase"]), int(state["iteration"])
    run.history = json.loads(state["history"])
    if run.phase == "encoder":
        for net in (run.G, run.D):
            net.eval()
            for p in net.parameters():
                p.requires_grad_(False)
