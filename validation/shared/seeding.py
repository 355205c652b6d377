"""Torch side of :mod:`numerics.shared.seeding`: a seeded :class:`torch.Generator`."""

from __future__ import annotations

import torch

from numerics.shared.seeding import check_seed

__all__ = ["torch_generator"]


def torch_generator(seed: int, name: str = "seed") -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded with ``seed`` (validated like every seed)."""
    return torch.Generator().manual_seed(check_seed(seed, name))
