"""``pl.nn.mlp``: the fully connected network of PINNs (Glorot-normal weights, zero biases, tanh)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax
import numpy as np

from .. import host_keys
from ..errors import ConfigurationError
from ._utils import check_input, positive_int, resolve_activation

INITS = ("glorot_normal", "lecun_uniform")


class MLP(eqx.Module):
    """A multi-layer perceptron ``(in_features,) -> (out_features,)``.

    Hidden layers ``layers`` are each followed by ``activation``; the head ``output_layer`` by
    ``final_activation`` (identity when ``None``). The head is its own field so that a mask can
    select it: ``eqx.tree_at(lambda m: m.output_layer, ...)``. Only the weights and biases are
    array leaves, so ``eqx.filter(mlp, eqx.is_inexact_array)`` is exactly the trainable part.

    Build one with :func:`mlp`.

    Attributes:
        layers: hidden ``eqx.nn.Linear`` layers, ``in_features -> hidden_dims[0] -> ... -> hidden_dims[-1]``.
        output_layer: the ``eqx.nn.Linear`` head, ``hidden_dims[-1] -> out_features``
            (weight ``(out_features, hidden_dims[-1])``, bias ``(out_features,)``).
        activation: the callable applied after every hidden layer (static).
        final_activation: the callable applied after the head, or ``None`` (static).
        in_features: input width ``d``.
        out_features: output width ``k``.
        hidden_dims: widths of the hidden layers.
    """

    layers: tuple[eqx.nn.Linear, ...]
    output_layer: eqx.nn.Linear
    activation: Callable = eqx.field(static=True)
    final_activation: Callable | None = eqx.field(static=True)
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)
    hidden_dims: tuple[int, ...] = eqx.field(static=True)

    def __call__(self, x: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
        """Evaluate the network at one point.

        Args:
            x: input of shape ``(in_features,)``; batches go through ``jax.vmap``.
            key: ignored; accepted for ``eqx.nn.Sequential`` compatibility.

        Returns:
            Output of shape ``(out_features,)``.

        Raises:
            ShapeError: ``x`` does not have shape ``(in_features,)`` (raised at trace time).
        """
        del key
        check_input(x, self.in_features, "MLP")
        for layer in self.layers:
            x = self.activation(layer(x))
        x = self.output_layer(x)
        if self.final_activation is not None:
            x = self.final_activation(x)
        return x


# Values hashed on the host at most (the bits are the same either way). NumPy hashes 2**16 values in 3 ms and
# 2**20 in 70 ms; compiling and running the threefry draw takes about 0.17 s up to 2**20 and 0.19 s at 2**22,
# where NumPy needs 0.4 s.
HOST_DRAW_LIMIT = 1 << 20


def _layer_size(fan_in: int, fan_out: int, init: str) -> int:
    """Values a layer takes from the flat draw: its weights, plus its biases for ``lecun_uniform``."""
    return fan_out * fan_in + (fan_out if init == "lecun_uniform" else 0)


def _draw_size(dims: tuple[int, ...], init: str) -> int:
    """Values of the one flat draw of the layers ``dims[i] -> dims[i + 1]``."""
    return sum(_layer_size(fi, fo, init) for fi, fo in zip(dims[:-1], dims[1:]))


def _floats_from_bits(bits: jax.Array, init: str, dtype) -> jax.Array:
    """``jr.normal`` (glorot) or ``jr.uniform(-1, 1)`` (lecun) of float32 from their 32 random bits, operation
    for operation as JAX computes them, so the values are the same bit for bit."""
    one = np.array(1.0, dtype)
    mantissa = lax.shift_right_logical(bits, np.uint32(32 - 23))
    floats = lax.bitcast_convert_type(lax.bitwise_or(mantissa, one.view(np.uint32)), dtype) - one  # [0, 1)
    if init == "glorot_normal":
        lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
        return lax.mul(np.array(np.sqrt(2), dtype), lax.erf_inv(lax.max(lo, floats * (one - lo) + lo)))
    lo = np.array(-1.0, dtype)
    return lax.max(lo, floats * (one - lo) + lo)


def _layers(flat: jax.Array, dims: tuple[int, ...], init: str, dtype) -> list[tuple[jax.Array, jax.Array]]:
    """Weights ``(fan_out, fan_in)`` and biases ``(fan_out,)`` of the layers ``dims[i] -> dims[i + 1]``, sliced
    from the flat draw (standard normal for ``glorot_normal``, uniform on [-1, 1] for ``lecun_uniform``)."""
    arrays, start = [], 0
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        size = _layer_size(fan_in, fan_out, init)
        chunk = flat[start : start + size]
        start += size
        if init == "glorot_normal":
            weight = chunk.reshape(fan_out, fan_in) * (2.0 / (fan_in + fan_out)) ** 0.5
            bias = jnp.zeros((fan_out,), dtype)
        else:
            chunk = chunk / fan_in**0.5
            weight, bias = chunk[: fan_out * fan_in].reshape(fan_out, fan_in), chunk[fan_out * fan_in :]
        arrays.append((weight, bias))
    return arrays


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _init_from_key(key: jax.Array, dims: tuple[int, ...], init: str, dtype) -> list[tuple[jax.Array, jax.Array]]:
    """The layers from one ``jax.random`` draw under one ``jit`` (any key, dtype and size)."""
    n = _draw_size(dims, init)
    if init == "glorot_normal":
        flat = jr.normal(key, (n,), dtype)
    else:
        flat = jr.uniform(key, (n,), dtype, minval=-1.0, maxval=1.0)
    return _layers(flat, dims, init, dtype)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _init_from_bits(bits: jax.Array, dims: tuple[int, ...], init: str, dtype) -> list[tuple[jax.Array, jax.Array]]:
    """The same layers from the draw's random bits hashed on the host: XLA compiles no threefry hash
    (0.27-0.44 s against 0.13-0.19 s for this program on a loaded 2-core CPU). The same fusions as
    :func:`_init_from_key`, bit for bit: materialising the draw first (an optimisation barrier) lets XLA
    fold the scale into the normal's constant differently and changes last bits."""
    return _layers(_floats_from_bits(bits, init, dtype), dims, init, dtype)


def _init_arrays(key: jax.Array, dims: tuple[int, ...], init: str, dtype) -> list[tuple[jax.Array, jax.Array]]:
    """The layers' weights and biases, from one random draw of ``key``."""
    n = _draw_size(dims, init)
    if jnp.dtype(dtype) == jnp.float32 and n <= HOST_DRAW_LIMIT:
        bits = host_keys.bits32(key, n)
        if bits is not None:
            return _init_from_bits(jax.device_put(bits), dims, init, dtype)
    return _init_from_key(key, dims, init, dtype)


def mlp(
    in_features: int,
    output_dim: int = 1,
    hidden_dims: int | Sequence[int] = 64,
    num_layers: int | None = None,
    activation: str | Callable = jnp.tanh,
    *,
    key: jax.Array,
    final_activation: str | Callable | None = None,
    init: str = "glorot_normal",
    dtype=None,
) -> MLP:
    """A fully connected network for PINNs, ``(in_features,) -> (output_dim,)``.

    ``mlp(1, hidden_dims=16, num_layers=2)`` has hidden layers ``1 -> 16`` and ``16 -> 16``
    (304 parameters) and an output layer ``16 -> 1`` (17 parameters).

    Args:
        in_features: input width ``d`` (number of coordinates, e.g. 2 for ``(x, t)``).
        output_dim: output width ``k``.
        hidden_dims: width of every hidden layer (an int), or the width of each (a sequence).
        num_layers: number of hidden ``Linear`` layers (0 gives a linear model). Defaults to 2
            for an int ``hidden_dims`` and to ``len(hidden_dims)`` for a sequence, which it must
            equal if given.
        activation: callable applied after each hidden layer, or one of ``"tanh"``, ``"sin"``,
            ``"relu"``, ``"gelu"``, ``"silu"``, ``"softplus"``, ``"sigmoid"``.
        key: PRNG key for the initialisation.
        final_activation: callable (or name) applied to the output; ``None`` for the identity.
        init: ``"glorot_normal"`` (weights ``N(0, 2/(fan_in+fan_out))``, zero biases; the PINN
            standard for tanh) or ``"lecun_uniform"`` (Equinox's default: weights and biases
            ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``).
        dtype: parameter dtype; defaults to float32 (float64 when ``jax_enable_x64`` is on).

    Returns:
        An :class:`MLP`.

    Raises:
        ConfigurationError: a non-positive width, ``hidden_dims`` and ``num_layers`` that
            disagree, or an unknown activation or ``init`` name.
    """
    in_features = positive_int(in_features, "in_features")
    output_dim = positive_int(output_dim, "output_dim")
    if isinstance(hidden_dims, Sequence) and not isinstance(hidden_dims, str):
        widths = tuple(positive_int(h, "each of hidden_dims") for h in hidden_dims)
        if num_layers is not None and num_layers != len(widths):
            raise ConfigurationError(
                f"hidden_dims={tuple(hidden_dims)} lists {len(widths)} layer width(s) but num_layers={num_layers}; "
                f"omit num_layers or make them agree"
            )
    else:
        width = positive_int(hidden_dims, "hidden_dims")
        if num_layers is None:
            num_layers = 2
        if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 0:
            raise ConfigurationError(f"num_layers must be a non-negative integer, got {num_layers!r}")
        num_layers = int(num_layers)
        widths = (width,) * num_layers
    if init not in INITS:
        raise ConfigurationError(f"unknown init {init!r}; use one of {INITS}")
    activation = resolve_activation(activation, "activation")
    final_activation = resolve_activation(final_activation, "final_activation")

    dims = (in_features, *widths, output_dim)
    dtype = jax.dtypes.canonicalize_dtype(jnp.float64 if dtype is None else dtype)
    linears = []
    for (fan_in, fan_out), (weight, bias) in zip(zip(dims[:-1], dims[1:]), _init_arrays(key, dims, init, dtype)):
        shell = eqx.filter_eval_shape(eqx.nn.Linear, fan_in, fan_out, dtype=dtype, key=key)  # structure only
        linears.append(eqx.tree_at(lambda l: (l.weight, l.bias), shell, (weight, bias)))
    return MLP(
        layers=tuple(linears[:-1]),
        output_layer=linears[-1],
        activation=activation,
        final_activation=final_activation,
        in_features=in_features,
        out_features=output_dim,
        hidden_dims=widths,
    )
