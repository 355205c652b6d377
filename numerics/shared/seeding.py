"""The one mechanism for randomness: every function that draws takes ``seed`` (an int >= 0 or a
:class:`numpy.random.Generator`) and turns it into a generator with :func:`as_generator`; a
sub-task derives its own seed with :func:`derive_seed`. The same seed gives the same numbers,
in results files too. Torch generators come from :func:`validation.shared.seeding.torch_generator`
(the same validation of the seed)."""

from __future__ import annotations

import zlib
from numbers import Integral

import numpy as np

from theory.errors import InputError

__all__ = ["as_generator", "check_seed", "derive_seed", "MAX_SEED"]

#: Seeds are integers in [0, 2**63 - 1] (what numpy and torch both accept).
MAX_SEED = 2**63 - 1


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an int in [0, MAX_SEED]; :class:`InputError` naming ``name`` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed <= MAX_SEED:
        raise InputError(name, seed, "an integer in [0, 2**63 - 1]")
    return int(seed)


def as_generator(seed: int | np.random.Generator, name: str = "seed") -> np.random.Generator:
    """A numpy generator: ``seed`` itself when it is one, else ``default_rng(seed)``.

    Examples
    --------
    >>> int(as_generator(0).integers(100)), int(as_generator(0).integers(100))
    (85, 85)
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed, name))


def derive_seed(seed: int, *keys: object) -> int:
    """A seed for a sub-task: stable across runs and processes (CRC-32 of the keys, not
    ``hash``), different for different keys.

    .. math:: s' = (s \\cdot 1000003 + \\mathrm{crc32}(k)) \\bmod 2^{31}

    with :math:`k` the keys joined by ``"/"`` (a claim's seed: ``derive_seed(seed, claim_id)``).
    """
    key = "/".join(str(k) for k in keys)
    return (check_seed(seed) * 1_000_003 + zlib.crc32(key.encode())) % 2**31
