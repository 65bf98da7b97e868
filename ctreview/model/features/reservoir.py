"""A uniform sample of a stream of feature rows, of bounded size (reservoir sampling).

The normal patches of a training run arrive image by image; their number
grows with the data while the memory bank built from them must not. A
reservoir keeps the first ``limit`` rows, then takes row ``t`` (counting
from 1) with probability ``limit / t`` in place of a random kept one, so at
any time every row seen is kept with the same probability (Vitter's
algorithm R, here a chunk of rows at a time). Below the limit it holds
every row in arrival order.
"""
from __future__ import annotations

import torch


class Reservoir:
    """At most ``limit`` rows (d floats each) out of all rows added, with an optional value per row.

    Parameters
    ----------
    limit : int
    seed : int
    """

    def __init__(self, limit: int, seed: int = 0) -> None:
        self.limit, self.seen = int(limit), 0
        self._gen = torch.Generator().manual_seed(int(seed))
        self._chunks: list[torch.Tensor] = []
        self._values: list[torch.Tensor] = []
        self._rows: torch.Tensor | None = None
        self._vals: torch.Tensor | None = None

    def add(self, rows: torch.Tensor, values: torch.Tensor | None = None) -> None:
        """Add rows ``(n, d)`` (and their values ``(n,)``)."""
        n = int(rows.shape[0])
        if n == 0:
            return
        room = max(0, self.limit - self.seen)
        if room:  # still filling: keep in arrival order
            take = min(room, n)
            self._chunks.append(rows[:take].clone())
            if values is not None:
                self._values.append(values[:take].clone())
            self.seen += take
            rows, values, n = rows[take:], None if values is None else values[take:], n - take
            if n == 0:
                return
        self._pack()
        t = torch.arange(self.seen + 1, self.seen + n + 1, dtype=torch.float64)
        accept = torch.rand(n, generator=self._gen, dtype=torch.float64) < self.limit / t
        slots = torch.randint(self.limit, (int(accept.sum()),), generator=self._gen)
        assert self._rows is not None
        self._rows[slots] = rows[accept]
        if values is not None and self._vals is not None:
            self._vals[slots] = values[accept]
        self.seen += n

    def _pack(self) -> None:
        if self._chunks:
            parts = ([self._rows] if self._rows is not None else []) + self._chunks
            self._rows, self._chunks = torch.cat(parts), []
            if self._values:
                vparts = ([self._vals] if self._vals is not None else []) + self._values
                self._vals, self._values = torch.cat(vparts), []

    def rows(self) -> torch.Tensor:
        """The kept rows, ``(min(seen, limit), d)``."""
        self._pack()
        return self._rows if self._rows is not None else torch.empty(0)

    def values(self) -> torch.Tensor | None:
        """The kept rows' values, ``(min(seen, limit),)``, or None when none were given."""
        self._pack()
        return self._vals
