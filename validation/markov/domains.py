"""Declared domains and the memory estimate of training the full Markov transformer (torch-free).

The command line (``ttc markov train --model transformer``) and the Python API
(:func:`validation.markov.training.train_members`) check the same declarations: the integer
arguments against their domains, then :func:`training_memory_bytes` against
:data:`MEMORY_BUDGET`, before anything is allocated. Kept apart from
:mod:`validation.markov.training` so that the command line can check without importing torch.

The estimate (bytes, float64 everywhere; ``M`` members, ``B`` sequences per step, context ``N``,
width ``d``, ``T = max(steps, 1)`` steps, ``X`` evaluation sequences: ``2^(N+1)`` when
``N <= 10`` (exact enumeration), else ``held_out``):

.. math::
    \\text{bytes} = \\underbrace{24\\,T M B (N+1)}_{\\text{batches drawn up front}}
    + 8 M \\max\\big(\\underbrace{B (6N^2 + 30 N d)}_{\\text{training step}},\\
    \\underbrace{X (2N^2 + 8 N d)}_{\\text{final evaluation}}\\big)
    + \\underbrace{64 M (14 d^2 + N d + 2d)}_{\\text{weights, gradients, Adam state}}

(24 bytes per sampled symbol: the int64 chains, their stack and the float64 tensor; per
sequence about six ``N x N`` attention arrays and thirty ``N x d`` activations with autograd,
two and eight without.) Calibrated on peak RSS: 8 members, ``N = 64``, ``d = 4``, 2000 steps
of 16 sequences and 2048 held-out sequences (the full profile's largest run) measure 1.68 GiB
of peak RSS against 1.62 GiB estimated (the budget check is an estimate, not a cap).
"""

from __future__ import annotations

from theory.budgets import MEMORY_BUDGET
from theory.domains import integer
from theory.errors import TooLargeError

__all__ = ["MEMORY_BUDGET", "WIDTH", "SEQ_LEN", "BATCH", "TRAINING_STEPS", "HELD_OUT",
           "MEMBERS", "training_memory_bytes", "check_training"]

#: Width ``d`` of the transformer (weights O(d^2); the memory estimate decides within it).
WIDTH = integer(1, 512, note="O(d^2) weights; the memory estimate must also fit 2 GiB")
#: Context length ``N`` (attention is O(N^2) per sequence).
SEQ_LEN = integer(1, 4096, note="attention is O(N^2) per sequence; the memory estimate must "
                                "also fit 2 GiB")
#: Sequences per Adam step.
BATCH = integer(1, 65_536, note="the memory estimate must also fit 2 GiB")
#: Adam steps (the batches of every step are drawn up front: see the memory estimate).
TRAINING_STEPS = integer(0, 1_000_000, note="every batch is drawn up front; the memory "
                                            "estimate must also fit 2 GiB")
#: Held-out sequences per member for the final loss when ``N > 10``.
HELD_OUT = integer(1, 1_000_000, note="the memory estimate must also fit 2 GiB")
#: Members (seeds) trained at once.
MEMBERS = integer(1, 4096, note="one model per seed; the memory estimate must also fit 2 GiB")
#: Sequences evaluated at once by the chunked (ensemble) trainer.
EVALUATION_CHUNK = 64
#: Depth ``L`` of the transformer (one head per layer; Part 2 Sec. 1).
LAYERS = integer(1, 64, note="one head per layer; the memory estimate must also fit 2 GiB")
#: Attention window ``W``: position n attends to max(1, n-W)..n (absent: causal, all of 1..n).
MEMORY = integer(1, 4096, note="position n attends to max(1, n-W)..n; must be below seq_len")
#: Lag ``k`` of the lag-k chain x_{n+1} ~ P(. | x_{n+1-k}) (1: the ordinary chain).
LAG = integer(1, 4096, note="x_{n+1} ~ P(. | x_{n+1-k}); must be at most seq_len")
#: Largest context of exact enumeration in the depth commands (2^(N+1) sequences).
EXACT_SEQ_LEN = integer(1, 10, note="exact enumeration of 2^(N+1) sequences")


def check_architecture(*, seq_len: int, layers: int = 1, memory: int | None = None,
                       lag: int = 1) -> None:
    """Check depth, window and lag together (Part 2 Secs. 1-2): each against its domain, then
    ``memory < seq_len`` (a longer window is the causal model: leave it out), ``lag <= seq_len``
    and, with a window, that ``layers`` windows reach back to the lagged symbol
    (``layers * memory >= lag - 1``: otherwise no layer stack can see :math:`x_{n+1-k}`).
    Raises :class:`~theory.errors.InputError` naming the argument."""
    from theory.errors import InputError

    SEQ_LEN.check("seq_len", seq_len)
    LAYERS.check("layers", layers)
    LAG.check("lag", lag)
    if lag > seq_len:
        raise InputError("lag", lag, f"at most seq_len={seq_len}")
    if memory is None:
        return
    MEMORY.check("memory", memory)
    if memory >= seq_len:
        raise InputError("memory", memory, f"below seq_len={seq_len} (a window of seq_len or "
                                           "more is the causal model: omit --memory)")
    if layers * memory < lag - 1:
        raise InputError("memory", memory, f"a window that {layers} layer(s) can serve for "
                                           f"lag {lag}: layers * memory >= lag - 1 = {lag - 1}")


def training_memory_bytes(*, steps: int, d: int, seq_len: int, batch: int, members: int = 1,
                          held_out: int = 2048, layers: int = 1,
                          chunk: int | None = None) -> int:
    """Estimated peak memory (bytes) of training ``members`` transformers (formula in the module
    docstring; with ``layers = L`` the activation and weight terms are ``L`` times larger; with
    ``chunk``, batches are drawn ``chunk`` steps at a time, ``T = min(steps, chunk)``, and the
    evaluation runs :data:`EVALUATION_CHUNK` sequences at a time, ``X <= EVALUATION_CHUNK``).
    Arguments are not checked here: see :func:`check_training`."""
    n = seq_len
    evaluated = 2 ** (n + 1) if n <= 10 else held_out
    if chunk is not None:
        evaluated = min(evaluated, EVALUATION_CHUNK)
    held = max(steps, 1) if chunk is None else max(min(steps, chunk), 1)
    data = 24 * held * members * batch * (n + 1)
    forward = 8 * members * max(layers * batch * (6 * n * n + 30 * n * d),
                                evaluated * (2 * n * n + 8 * n * d))
    weights = 64 * members * (14 * d * d * layers + n * d + 2 * d)
    return data + forward + weights


def check_training(*, steps: int, d: int, seq_len: int, batch: int, members: int = 1,
                   held_out: int = 2048, layers: int = 1, chunk: int | None = None) -> int:
    """Check every size against its domain, then the memory estimate against
    :data:`MEMORY_BUDGET`; returns the estimate (bytes). Raises
    :class:`~theory.errors.InputError` (a value outside its domain) or
    :class:`~theory.errors.TooLargeError` naming the argument that dominates the estimate."""
    TRAINING_STEPS.check("steps", steps)
    WIDTH.check("d", d)
    SEQ_LEN.check("seq_len", seq_len)
    BATCH.check("batch", batch)
    MEMBERS.check("seeds", members)
    HELD_OUT.check("held_out", held_out)
    LAYERS.check("layers", layers)
    estimate = training_memory_bytes(steps=steps, d=d, seq_len=seq_len, batch=batch,
                                     members=members, held_out=held_out, layers=layers,
                                     chunk=chunk)
    if estimate > MEMORY_BUDGET:
        n = seq_len
        evaluated = 2 ** (n + 1) if n <= 10 else held_out
        if chunk is not None:
            evaluated = min(evaluated, EVALUATION_CHUNK)
        rows = max(batch, evaluated)
        held = max(steps, 1) if chunk is None else max(min(steps, chunk), 1)
        parts = {"steps": 24 * held * members * batch * (n + 1),
                 "seq_len": 8 * members * layers * rows * 6 * n * n,
                 "d": 8 * members * layers * rows * 30 * n * d
                      + 64 * members * 14 * d * d * layers}
        name = max(parts, key=parts.get)
        value = {"steps": steps, "seq_len": seq_len, "d": d}[name]
        raise TooLargeError(name, value,
                            f"a run within {MEMORY_BUDGET / 2**30:g} GiB (estimated "
                            f"{estimate / 2**30:.1f} GiB for steps={steps}, d={d}, "
                            f"seq_len={seq_len}, batch={batch}, seeds={members}); use a smaller "
                            f"{name}")
    return estimate
