"""Convergence diagnostics (R-hat, ESS) on the ``(K, N, *param)`` chain layout.

Follows Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and
localization: an improved R-hat", and reproduces ArviZ's ``az.rhat`` / ``az.ess`` (0.23) to floating
point rounding, quirks included. Every ArviZ detail that a reader might not expect is marked
``ArviZ:`` in a comment. Inputs are host arrays (NumPy or JAX); the work is done in float64 NumPy,
vectorised over parameter components. Results have shape ``param`` (a NumPy scalar for ``(K, N)``).

Differences from ArviZ, on purpose: fewer than 4 draws raises ``ConfigurationError`` (ArviZ returns
NaN), and R-hat of a single chain is the split R-hat of its two halves (ArviZ returns NaN).

Chains that never move follow ArviZ too: a component that is constant over all chains and draws has
ESS equal to the number of draws used (``S``, not NaN) and R-hat NaN (0/0 variances); chains stuck
at different values have a tiny ESS and an enormous R-hat. :mod:`pinnlang.bayesian.health` turns
these into warnings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigurationError, ShapeError

RHAT_METHODS = ("rank", "split", "folded", "z_scale", "identity")
ESS_METHODS = ("bulk", "tail", "mean", "sd", "quantile", "median", "mad", "z_scale", "folded",
               "identity", "local")
STRATEGIES = ("auto", "multichain", "split")
MIN_DRAWS = 4


def _as_chains(chain, who: str) -> tuple[np.ndarray, tuple[int, ...], np.ndarray]:
    """``(K, N, *param)`` -> float64 ``(K, N, P)``, ``param``, NaN mask ``(P,)`` (NaN columns zeroed)."""
    a = np.asarray(chain)
    if a.ndim < 2:
        raise ShapeError(f"{who} expects chains of shape (K, N, *param) (K chains, N draws); got "
                         f"shape {a.shape}. For one chain of draws use x[None].")
    k, n = a.shape[:2]
    if k < 1:
        raise ConfigurationError(f"{who} got no chains (shape {a.shape}).")
    if n < MIN_DRAWS:
        raise ConfigurationError(f"{who} needs at least {MIN_DRAWS} draws per chain, got N={n} "
                                 f"(shape {a.shape}); draw more samples.")
    param = a.shape[2:]
    x = a.reshape(k, n, int(np.prod(param, dtype=int))).astype(np.float64)
    bad = np.isnan(x).any(axis=(0, 1))
    x[:, :, bad] = 0.0  # ArviZ: any NaN in a component makes its diagnostic NaN; set it at the end
    return x, param, bad


def _finish(values: np.ndarray, param: tuple[int, ...], bad: np.ndarray):
    out = np.asarray(values, dtype=np.float64).copy()
    out[bad] = np.nan
    return out.reshape(param)[()]


def _split(x: np.ndarray) -> np.ndarray:
    """``(C, n, P)`` -> ``(2C, n // 2, P)``: first and last halves of every chain.

    ArviZ: for odd ``n`` the middle draw is dropped (halves ``[:n//2]`` and ``[-(n//2):]``).
    """
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..m of each column of ``(m, p)``, ties given their average rank (``scipy.stats.rankdata``'s
    ``"average"``; written out because importing ``scipy.stats`` costs about 0.4 s)."""
    m, p = x.shape
    order = np.argsort(x, axis=0, kind="stable")
    sorted_x = np.take_along_axis(x, order, axis=0)
    ranks = np.empty((m, p), np.float64)
    for j in range(p):
        col = sorted_x[:, j]
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])  # first index of each run of equal values
        ends = np.r_[starts[1:], m]
        avg = (starts + ends + 1) / 2.0  # the mean of ranks starts+1 .. ends
        ranks[order[:, j], j] = np.repeat(avg, ends - starts)
    return ranks


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise ``(C, n, P)``: pooled average ranks, Blom offset 3/8, inverse normal CDF."""
    c, n, p = x.shape
    from scipy import special  # here, not at import time

    ranks = _average_ranks(x.reshape(c * n, p))
    return special.ndtri((ranks - 0.375) / (c * n - 0.75 + 1.0)).reshape(c, n, p)


def _fold(x: np.ndarray) -> np.ndarray:
    """``|x - median|`` with the median pooled over chains and draws (per component)."""
    return np.abs(x - np.median(x, axis=(0, 1)))


def _quantile(x: np.ndarray, prob: float) -> np.ndarray:
    """Type-7 quantile of ``(C, n, P)`` pooled over chains and draws -> ``(P,)``.

    ArviZ: computed as ``scipy.stats.mstats.mquantiles(alphap=1, betap=1)`` does (which can differ
    from ``np.quantile`` in the last bit); reproduced exactly, since ESS then compares ``x <= q``.
    """
    s = np.sort(x.reshape(-1, x.shape[-1]), axis=0)
    size = s.shape[0]
    aleph = size * prob + (1.0 + prob * (1.0 - 1.0 - 1.0))
    k = int(np.floor(np.clip(aleph, 1, size - 1)))
    gamma = float(np.clip(aleph - k, 0.0, 1.0))
    return (1.0 - gamma) * s[k - 1] + gamma * s[k]


def _squared_deviations(chain, bad: np.ndarray) -> np.ndarray:
    """``(x - mean)**2`` per component, ``(K, N, P)`` float64, computed as ArviZ's ``_ess_sd`` does.

    ArviZ: the deviations are taken in the input's dtype (float32 for pinnlang's chains) with the
    mean of each component's ``(K, N)`` slice, and only then converted to float64. For a chain that
    is stuck up to one float32 ulp this decides whether the result is exactly constant (ESS = S),
    so it is reproduced slice by slice rather than in float64.
    """
    a = np.asarray(chain)
    k, n = a.shape[:2]
    a = a.reshape(k, n, -1)
    out = np.empty(a.shape, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # an infinite draw gives NaN, as in ArviZ
        for j in range(a.shape[2]):
            aj = a[:, :, j]
            out[:, :, j] = (aj - aj.mean()) ** 2
    out[:, :, bad] = 0.0  # NaN components are set to NaN at the end
    return out


def _rhat_core(x: np.ndarray) -> np.ndarray:
    """Classic (Gelman-Rubin, BDA3) R-hat of ``(C, n, P)`` sequences -> ``(P,)``."""
    n = x.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        between = n * np.var(np.mean(x, axis=1), axis=0, ddof=1)
        within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
        # ArviZ: constant input gives 0/0 = NaN here (no special case for R-hat).
        return np.sqrt((between / within + n - 1.0) / n)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Biased (divide by ``n``) autocovariance of every chain at lags ``0..n-1`` via zero-padded FFT."""
    n = x.shape[1]
    from scipy import fft

    m = fft.next_fast_len(2 * n, real=True)
    f = np.fft.rfft(x - x.mean(axis=1, keepdims=True), n=m, axis=1)
    return np.fft.irfft(f * np.conjugate(f), n=m, axis=1)[:, :n] / n


def _ess_core(x: np.ndarray) -> np.ndarray:
    """Multi-chain ESS of ``(C, n, P)`` sequences -> ``(P,)`` (Geyer initial monotone sequence)."""
    c, n, p = x.shape
    size = c * n
    with np.errstate(invalid="ignore", divide="ignore"):
        acov = np.mean(_autocov(x), axis=0)  # (n, P), averaged over chains
        mean_var = acov[0] * n / (n - 1.0)
        var_plus = mean_var * (n - 1.0) / n
        if c > 1:  # ArviZ: the between-chain term only when there are several sequences
            var_plus = var_plus + np.var(np.mean(x, axis=1), axis=0, ddof=1)
        rho = 1.0 - (mean_var - acov) / var_plus  # (n, P) combined autocorrelations
    rho[0] = 1.0  # ArviZ: lag 0 is set to exactly 1, not computed
    # Pairs (rho[2k], rho[2k+1]). ArviZ's positive-sequence loop stops at lag n-3: pairs 0..kmax.
    kmax = max(0, (n - 3) // 2)
    even, odd = rho[0:2 * kmax + 1:2], rho[1:2 * kmax + 2:2]
    pair = even + odd  # (kmax + 1, P)
    # Number of pairs past the first that the loop reads: it stops after the first pair <= 0.
    stop = np.concatenate([~(pair[:kmax] > 0), np.ones((1, p), dtype=bool)])  # sentinel at kmax
    k_last = np.argmax(stop, axis=0)  # (P,) index of the pair that ended the loop
    # Initial monotone sequence: each kept pair sum is capped by the previous one (running minimum).
    kept = np.arange(kmax + 1)[:, None] < k_last
    mono = np.minimum.accumulate(np.where(kept, pair, np.inf), axis=0)
    cols = np.arange(p)
    last_even, last_pair = even[k_last, cols], pair[k_last, cols]
    # ArviZ: the even lag of the pair that ended the loop still counts, once, if that pair's sum is
    # >= 0 or the even term alone is > 0 (even when it is the pair that turned negative).
    tail = np.where((last_pair >= 0) | (last_even > 0), last_even, 0.0)
    tau = -1.0 + 2.0 * np.sum(np.where(kept, mono, 0.0), axis=0) + tail
    bound = 1.0 / np.log10(size)  # ArviZ: tau >= 1/log10(S), i.e. ESS <= S * log10(S)
    tau = np.where(bound > tau, bound, tau)
    ess = size / tau
    ess = np.where(np.isnan(odd[0]), np.nan, ess)  # ArviZ: NaN autocorrelation -> NaN
    # ArviZ: a (numerically) constant sequence has ESS = its total size, not NaN.
    const = (np.max(x, axis=(0, 1)) - np.min(x, axis=(0, 1))) < np.finfo(float).resolution
    return np.where(const, float(size), ess)


def rhat(chain, strategy: str = "auto", method: str = "rank"):
    """Potential scale reduction factor R-hat of MCMC chains, per parameter component.

    ``method`` mirrors ``az.rhat(..., method=...)``; all methods except ``"identity"`` split each of
    the ``K`` chains into halves (dropping the middle draw when ``N`` is odd) and work on the ``2K``
    half-chains:

    - ``"rank"`` (default, Vehtari et al. 2021): ``max(bulk, tail)``, bulk = R-hat of the rank-
      normalised half-chains, tail = R-hat of the rank-normalised ``|x - median|``.
    - ``"split"``: classic R-hat of the half-chains. ``"z_scale"``: the bulk part of ``"rank"``.
      ``"folded"``: the tail part of ``"rank"``. ``"identity"``: classic R-hat of the unsplit chains.

    ``strategy`` only decides what happens for a single chain and for ``"identity"``:

    - ``"auto"``: ``K >= 2`` gives exactly ``az.rhat(method=method)``. ``K == 1`` gives the same
      formula on the two halves of the chain (ArviZ returns NaN there); ``"identity"`` with ``K == 1``
      therefore equals ``"split"``.
    - ``"multichain"``: as ``"auto"`` but ``K == 1`` raises ``ConfigurationError``.
    - ``"split"``: as ``"auto"``, and ``"identity"`` is also split (so it equals ``"split"``).
      For every other method ``"split"`` and ``"auto"`` agree, since those methods split anyway.

    A component containing a NaN gives NaN; a constant component gives NaN (0/0 variances), as in
    ArviZ. Values below 1.01 (strict) or 1.05 (lenient) indicate convergence.

    Args:
        chain: draws of shape ``(K, N, *param)``, ``N >= 4``; NumPy or JAX array.
        strategy: ``"auto"``, ``"multichain"`` or ``"split"`` (see above).
        method: ``"rank"``, ``"split"``, ``"folded"``, ``"z_scale"`` or ``"identity"``.

    Returns:
        float64 array of shape ``param`` (a NumPy scalar when ``chain`` is ``(K, N)``).

    Raises:
        ConfigurationError: unknown strategy or method, fewer than 4 draws, or ``K == 1`` with
            ``strategy="multichain"``.
    """
    if strategy not in STRATEGIES:
        raise ConfigurationError(f"rhat strategy {strategy!r} is unknown; use one of {STRATEGIES}.")
    if method not in RHAT_METHODS:
        raise ConfigurationError(f"rhat method {method!r} is unknown; use one of {RHAT_METHODS}.")
    x, param, bad = _as_chains(chain, "rhat")
    if x.shape[0] == 1 and strategy == "multichain":
        raise ConfigurationError(
            f"rhat(strategy='multichain'): the chain layout carries one chain (shape "
            f"{np.shape(chain)}, K=1). Sample with num_chains >= 2, or use strategy='auto' or "
            "'split' to compute split R-hat on the two halves of the single chain.")
    if method == "identity":
        values = _rhat_core(_split(x) if x.shape[0] == 1 or strategy == "split" else x)
    elif method == "split":
        values = _rhat_core(_split(x))
    elif method == "z_scale":
        values = _rhat_core(_z_scale(_split(x)))
    elif method == "folded":
        values = _rhat_core(_z_scale(_fold(_split(x))))
    else:
        halves = _split(x)
        bulk = _rhat_core(_z_scale(halves))
        tail = _rhat_core(_z_scale(_fold(halves)))
        # ArviZ: Python's max(bulk, tail), so a NaN tail is ignored but a NaN bulk is returned.
        values = np.where(tail > bulk, tail, bulk)
    return _finish(values, param, bad)


def _check_prob(prob, who: str) -> float:
    if isinstance(prob, bool) or not np.isscalar(prob) or not 0.0 < float(prob) < 1.0:
        raise ConfigurationError(f"{who} needs a probability strictly between 0 and 1, got {prob!r}.")
    return float(prob)


def _prob_pair(prob, default, who: str) -> tuple[float, float]:
    if prob is None:
        if default is None:
            raise ConfigurationError(f"{who} needs prob=(low, high), e.g. prob=(0.25, 0.75).")
        return default
    if isinstance(prob, Sequence) and len(prob) == 2:
        return _check_prob(prob[0], who), _check_prob(prob[1], who)
    if isinstance(prob, Sequence):
        raise ConfigurationError(f"{who} needs prob=(low, high) or a single probability, got {prob!r}.")
    p = _check_prob(prob, who)
    return p, 1.0 - p


def ess(chain, method: str = "bulk", prob=None):
    """Effective sample size of MCMC chains, per parameter component (absolute, not per draw).

    Reproduces ``az.ess(..., method=method, relative=False)``. The ESS of a set of sequences uses
    their FFT autocovariances (biased, divided by the length), the combined autocorrelation of
    Vehtari et al. (2021, eq. 10), Geyer's initial positive then initial monotone sequence, and the
    cap ``ESS <= S log10(S)`` (``S`` draws in all). Methods:

    - ``"bulk"`` (default): rank-normalised half-chains. ``"mean"``: raw half-chains.
    - ``"tail"``: ``min`` of the ``"quantile"`` ESS at ``prob`` = ``(low, high)``; default
      ``(0.05, 0.95)``; a single ``p`` means ``(p, 1 - p)``.
    - ``"quantile"`` (needs scalar ``prob``): half-chains of the indicator ``x <= q_prob``, the
      quantile taken over all draws. ``"median"``: ``"quantile"`` at 0.5.
    - ``"local"`` (needs ``prob=(low, high)``): indicator ``q_low <= x <= q_high``.
    - ``"sd"``: half-chains of ``(x - mean)**2``. ``"mad"``: rank-normalised half-chains of the
      indicator ``|x - median| <= median(|x - median|)``.
    - ``"z_scale"``: same as ``"bulk"``. ``"folded"``: rank-normalised ``|x - median|`` of the
      half-chains. ``"identity"``: raw, unsplit chains.

    "Half-chains": every chain split in two, the middle draw dropped when ``N`` is odd, so ``S`` is
    ``2K * (N // 2)``. A component containing a NaN gives NaN; a constant component gives ``S``
    (ArviZ's convention, not NaN). Unlike R-hat, ``K == 1`` is fine (two half-chains).

    Args:
        chain: draws of shape ``(K, N, *param)``, ``N >= 4``; NumPy or JAX array.
        method: one of ``ESS_METHODS``.
        prob: probability or pair, for ``"tail"``, ``"quantile"`` and ``"local"`` only.

    Returns:
        float64 array of shape ``param`` (a NumPy scalar when ``chain`` is ``(K, N)``).

    Raises:
        ConfigurationError: unknown method, bad or missing ``prob``, or fewer than 4 draws.
    """
    if method not in ESS_METHODS:
        raise ConfigurationError(f"ess method {method!r} is unknown; use one of {ESS_METHODS}.")
    if prob is not None and method not in ("tail", "quantile", "local"):
        raise ConfigurationError(f"ess(method={method!r}) takes no prob; it is for 'tail', "
                                 "'quantile' and 'local'.")
    if method == "quantile" and (prob is None or isinstance(prob, Sequence)):
        raise ConfigurationError(f"ess(method='quantile') needs a single prob, got {prob!r}.")
    x, param, bad = _as_chains(chain, "ess")
    if method in ("bulk", "z_scale"):
        values = _ess_core(_z_scale(_split(x)))
    elif method == "mean":
        values = _ess_core(_split(x))
    elif method == "sd":
        values = _ess_core(_split(_squared_deviations(chain, bad)))
    elif method == "folded":
        values = _ess_core(_z_scale(_fold(_split(x))))
    elif method == "identity":
        values = _ess_core(x)
    elif method == "mad":
        dev = _fold(x)  # ArviZ: both medians here are over the unsplit draws
        values = _ess_core(_z_scale(_split(dev <= np.median(dev, axis=(0, 1)))))
    elif method == "local":
        lo, hi = _prob_pair(prob, None, "ess(method='local')")
        inside = (_quantile(x, lo) <= x) & (x <= _quantile(x, hi))
        values = _ess_core(_split(inside.astype(np.float64)))
    elif method == "tail":
        lo, hi = _prob_pair(prob, (0.05, 0.95), "ess(method='tail')")
        low, high = (_ess_core(_split((x <= _quantile(x, q)).astype(np.float64))) for q in (lo, hi))
        values = np.where(high < low, high, low)  # ArviZ: Python's min(low, high)
    else:
        q = 0.5 if method == "median" else _check_prob(prob, "ess(method='quantile')")
        values = _ess_core(_split((x <= _quantile(x, q)).astype(np.float64)))
    return _finish(values, param, bad)
