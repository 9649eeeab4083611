"""Input embeddings for PINNs: random Fourier features and exactly periodic coordinates.

Compose with a network through ``eqx.nn.Sequential``::

    emb = pl.nn.FourierFeatures(2, 64, sigma=2.0, key=k1)
    net = eqx.nn.Sequential([emb, pl.nn.mlp(emb.out_features, key=k2)])

Neither embedding has trainable values: ``eqx.filter(emb, eqx.is_inexact_array)`` is empty, so
optimisers and samplers never see them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..errors import ConfigurationError
from ._utils import FrozenArray, check_input, positive_int


class FourierFeatures(eqx.Module):
    """Random Fourier features ``x -> [cos(2π B x), sin(2π B x)]``, ``(in_features,) -> (2 num_features,)``.

    ``B`` has shape ``(num_features, in_features)`` with entries ``N(0, sigma²)``, drawn once and
    kept fixed (Tancik et al., 2020): it is a static field, not a trainable leaf. The first
    ``num_features`` outputs are the cosines, the last ``num_features`` the sines.

    Attributes:
        in_features: input width ``d``.
        num_features: number of frequencies ``m``.
        out_features: output width ``2 m``.
        sigma: the standard deviation(s) the frequencies were drawn with.
    """

    frequencies: FrozenArray = eqx.field(static=True)
    in_features: int = eqx.field(static=True)
    num_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)
    sigma: float | tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        in_features: int,
        num_features: int,
        sigma: float | Sequence[float] = 1.0,
        *,
        key: jax.Array,
        dtype=None,
    ):
        """Draw the frequency matrix.

        Args:
            in_features: input width ``d``.
            num_features: number of frequencies ``m`` (the output has width ``2 m``).
            sigma: standard deviation of the frequencies; a float, or one per input dimension
                (a sequence of ``d`` floats) for different scales in, e.g., space and time.
            key: PRNG key for ``B``.
            dtype: dtype of ``B``; defaults to float32 (float64 when ``jax_enable_x64`` is on).
        """
        self.in_features = positive_int(in_features, "in_features")
        self.num_features = positive_int(num_features, "num_features")
        self.out_features = 2 * self.num_features
        scale = np.asarray(sigma, dtype=np.float64)
        if scale.ndim > 1 or (scale.ndim == 1 and scale.shape != (self.in_features,)):
            raise ConfigurationError(
                f"sigma must be a float or {self.in_features} floats (one per input dimension), got {sigma!r}"
            )
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ConfigurationError(f"sigma must be positive and finite, got {sigma!r}")
        self.sigma = float(scale) if scale.ndim == 0 else tuple(float(s) for s in scale)
        dtype = jax.dtypes.canonicalize_dtype(jnp.float64) if dtype is None else dtype
        try:
            normal = np.asarray(jr.normal(key, (self.num_features, self.in_features), dtype))
        except jax.errors.TracerArrayConversionError:
            raise ConfigurationError(
                "FourierFeatures fixes its frequencies B at construction, so its key must be concrete: "
                "build it outside jax.jit / jax.vmap (for an ensemble, share one embedding and vmap the MLP)"
            ) from None
        self.frequencies = FrozenArray(normal * scale.astype(normal.dtype))

    @property
    def B(self) -> np.ndarray:
        """The fixed frequency matrix, shape ``(num_features, in_features)`` (a read-only numpy array)."""
        return self.frequencies.array

    def __call__(self, x: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
        """Embed one point.

        Args:
            x: input of shape ``(in_features,)``.
            key: ignored; accepted for ``eqx.nn.Sequential`` compatibility.

        Returns:
            ``[cos(2π B x), sin(2π B x)]``, shape ``(2 num_features,)``.
        """
        del key
        check_input(x, self.in_features, "FourierFeatures")
        z = 2 * jnp.pi * (jnp.asarray(self.B) @ x)
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)])


class PeriodicEmbedding(eqx.Module):
    """Exactly periodic coordinates: ``x_i -> [cos(2π x_i / P_i), sin(2π x_i / P_i)]``.

    A network applied after this embedding is exactly ``P_i``-periodic in ``x_i``. A dimension
    whose period is ``None`` is passed through unchanged. The output keeps the input order: each
    periodic dimension becomes two adjacent entries (cos, then sin), each other one entry, so
    ``out_features = in_features + (number of periodic dimensions)``.

    Example: ``PeriodicEmbedding([2.0, None])`` maps ``(x, t)`` to
    ``(cos(π x), sin(π x), t)``, ``(2,) -> (3,)``.

    Attributes:
        periods: one period (a positive float) or ``None`` per input dimension.
        in_features: input width ``d = len(periods)``.
        out_features: output width ``d + (number of periodic dimensions)``.
    """

    periods: tuple[float | None, ...] = eqx.field(static=True)
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)

    def __init__(self, periods: Sequence[float | None]):
        """Record the periods.

        Args:
            periods: a sequence with one entry per input dimension: its period (a positive
                float) or ``None`` to pass that coordinate through.
        """
        if isinstance(periods, (str, bytes)) or not isinstance(periods, Sequence) or len(periods) == 0:
            raise ConfigurationError(
                f"periods must be a non-empty sequence with one period (or None) per input dimension, got {periods!r}"
            )
        checked = []
        for p in periods:
            if p is not None:
                if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not math.isfinite(p) or p <= 0:
                    raise ConfigurationError(f"each period must be a positive float or None, got {p!r}")
                p = float(p)
            checked.append(p)
        self.periods = tuple(checked)
        self.in_features = len(self.periods)
        self.out_features = self.in_features + sum(p is not None for p in self.periods)

    def __call__(self, x: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
        """Embed one point.

        Args:
            x: input of shape ``(in_features,)``.
            key: ignored; accepted for ``eqx.nn.Sequential`` compatibility.

        Returns:
            Shape ``(out_features,)``, in input order (cos, sin for each periodic dimension).
        """
        del key
        check_input(x, self.in_features, "PeriodicEmbedding")
        parts = []
        for i, period in enumerate(self.periods):
            if period is None:
                parts.append(x[i : i + 1])
            else:
                turns = x[i] / period
                # Reduce to one period first: exact periodicity in floating point, and the
                # derivative is unchanged (floor has zero derivative almost everywhere).
                phase = 2 * jnp.pi * (turns - jax.lax.stop_gradient(jnp.floor(turns)))
                parts.append(jnp.stack([jnp.cos(phase), jnp.sin(phase)]))
        return jnp.concatenate(parts)
