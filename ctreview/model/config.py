"""Network architecture settings, kept free of torch so model lists load fast."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

TILE_SIZES = (32, 64, 128, 256)
NORMS = ("batch", "instance", "layer", "none")


@dataclass(frozen=True)
class NetConfig:
    """Architecture of the three networks; stored in ``model.json``.

    Attributes
    ----------
    tile_size : int
        Side of a square tile, one of 32, 64, 128, 256.
    latent_dim : int
        Size of the latent vector z.
    width : int
        Channels of the widest-resolution layer; deeper layers double it.
    g_norm, d_norm : str
        Normalisation of generator / discriminator and encoder layers:
        ``"batch"``, ``"instance"``, ``"layer"`` or ``"none"``. WGAN-GP needs a
        discriminator without batch statistics (``"layer"`` or ``"none"``).
    """

    tile_size: int = 64
    latent_dim: int = 100
    width: int = 32
    g_norm: str = "batch"
    d_norm: str = "batch"

    def __post_init__(self) -> None:
        if self.tile_size not in TILE_SIZES:
            raise ValueError(f"tile size must be one of {TILE_SIZES}, not {self.tile_size}")
        if self.g_norm not in NORMS or self.d_norm not in NORMS:
            raise ValueError(f"normalisation must be one of {NORMS}")
        if self.latent_dim < 1 or self.width < 1:
            raise ValueError("latent_dim and width must be positive")

    @property
    def levels(self) -> int:
        """Number of stride-2 stages between 4x4 and the tile size."""
        return int(math.log2(self.tile_size // 4))

    def to_dict(self) -> dict:
        return asdict(self)
