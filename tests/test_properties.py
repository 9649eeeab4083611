"""Property-based tests (hypothesis): random expression graphs against direct JAX, and random misuse.

* **Graphs.** Random expressions over random point sets (1-3 coordinates, 3 or 6 points), parameters,
  scalars and per-point data arrays are compiled by pinnlang (:class:`~pinnlang.compile.Program`,
  jitted together with the references: one compile per example) and compared with the same formula
  written directly in JAX: values, first derivatives and second derivatives (pure and mixed), the
  references by nested ``jax.jvp`` with the tangent "ones in column j".
* **Misuse.** Random operands of random shapes against fields, random indices, random non-values
  and random model widths either work as NumPy broadcasting says *without* pairing points with
  other rows, or raise a :class:`~pinnlang.errors.PinnlangError` when the expression is built;
  never an XLA error, never a silent ``(n, n)``.

Hypothesis runs derandomised with a bounded number of examples (profile in ``tests/conftest.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pinnlang as pl  # noqa: E402
from pinnlang.compile import Program  # noqa: E402
from pinnlang.errors import PinnlangError  # noqa: E402

UNARY = {
    "sin": (pl.np.sin, jnp.sin), "cos": (pl.np.cos, jnp.cos), "tanh": (pl.np.tanh, jnp.tanh),
    "sigmoid": (pl.np.sigmoid, lambda v: 1.0 / (1.0 + jnp.exp(-v))), "square": (pl.np.square, jnp.square),
    "neg": (lambda a: -a, lambda v: -v), "cube": (lambda a: a ** 3, lambda v: v ** 3),
    "np.sin": (np.sin, jnp.sin),  # NumPy's ufunc on an expression dispatches to pl.np.sin
}
BINARY = {
    "add": (lambda a, b: a + b, lambda u, v: u + v),
    "sub": (lambda a, b: a - b, lambda u, v: u - v),
    "mul": (lambda a, b: a * b, lambda u, v: u * v),
    "div": (lambda a, b: a / (1.0 + b * b), lambda u, v: u / (1.0 + v * v)),  # never divides by zero
    "dot": (lambda a, b: pl.np.dot(pl.np.concatenate([a, b]), pl.np.concatenate([b, a])),
            lambda u, v: 2.0 * u * v),
    "pick": (lambda a, b: pl.np.concatenate([a, b])[1], lambda u, v: v + 0.0 * u),
}


class Problem:
    """A random point set with its coordinate variables, and the leaves expressions may use."""

    def __init__(self, points: np.ndarray, seed: int):
        self.points = points.astype(np.float32)
        self.n, self.d = self.points.shape
        self.dom = pl.domain.from_array({"p": self.points})
        self.vars = self.dom.variable("p").spatial
        self.rng = np.random.default_rng(seed)


@st.composite
def problems(draw):
    n = draw(st.sampled_from([3, 6]))  # few distinct shapes: eager JAX compiles each primitive once per shape
    d = draw(st.integers(1, 3))
    pts = draw(st.lists(st.floats(-1.0, 1.0, width=32), min_size=n * d, max_size=n * d))
    return Problem(np.asarray(pts, np.float32).reshape(n, d), draw(st.integers(0, 2**16)))


@st.composite
def expressions(draw, prob: Problem, depth: int, root: bool = True):
    """``(pinnlang expression, reference X -> value)`` of a random scalar field over ``prob``.

    The root is always an operation; below it operations are drawn twice as often as leaves until
    ``depth`` runs out, so graphs have up to ``2**depth`` leaves.
    """
    leaves = ["var", "var", "param", "scalar", "data"]
    ops = ["unary"] * 4 + ["binary"] * 6
    kinds = ops if (root and depth > 0) else (ops + leaves if depth > 0 else leaves)
    kind = draw(st.sampled_from(kinds))
    if kind == "var":
        j = draw(st.integers(0, prob.d - 1))
        return prob.vars[j], lambda X: X[:, j:j + 1]
    if kind == "param":
        v = draw(st.floats(-1.5, 1.5, width=32))
        p = pl.np.parameter((1,), init=v)
        return p, lambda X: jnp.full((1,), v, jnp.float32)
    if kind == "scalar":
        c = draw(st.floats(-2.0, 2.0, width=32))
        return c, lambda X: c
    if kind == "data":
        arr = prob.rng.uniform(-1, 1, size=(prob.n, 1)).astype(np.float32)
        return pl.np.array(arr), lambda X: jnp.asarray(arr)
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        a, fa = draw(expressions(prob, depth - 1, root=False))
        op, ref = UNARY[name]
        return op(pl.np.array(a) if isinstance(a, float) else a), lambda X: ref(fa(X))
    name = draw(st.sampled_from(sorted(BINARY)))
    (a, fa), (b, fb) = draw(expressions(prob, depth - 1, False)), draw(expressions(prob, depth - 1, False))
    op, ref = BINARY[name]
    if name in ("dot", "pick"):  # these stack their operands as columns: make point-free ones fields
        a = a if getattr(a, "points", None) is not None else prob.vars[0] * 0.0 + a
        b = b if getattr(b, "points", None) is not None else prob.vars[0] * 0.0 + b
        fa0, fb0 = fa, fb
        fa = lambda X, f=fa0: jnp.broadcast_to(f(X), (X.shape[0], 1))  # noqa: E731
        fb = lambda X, f=fb0: jnp.broadcast_to(f(X), (X.shape[0], 1))  # noqa: E731
    if isinstance(a, float) and isinstance(b, float):
        a = pl.np.array(np.float32(a))
    return op(a, b), lambda X: ref(fa(X), fb(X))


def evaluate(nodes):
    """Eager evaluation of pinnlang nodes at the handles' current values (no jit)."""
    program = Program(nodes)
    params = {k: h.get_trainable() for k, h in program.handles.items()}
    return [np.asarray(v) for v in program.evaluate(params, program.data(jax.random.PRNGKey(0)))]


def jvp_derivative(f, X, j):
    """``x -> ∂f/∂x_j`` of a row-wise ``f`` by a jvp along "ones in column j"."""
    e = jnp.zeros_like(X).at[:, j].set(1.0)
    return jax.jvp(f, (X,), (e,))[1]


def close(got, want):
    want = np.broadcast_to(np.asarray(want, np.float64), got.shape)
    scale = 1.0 + float(np.max(np.abs(want)))
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4 * scale)


@hypothesis.settings(max_examples=25)
@given(data=st.data())
def test_random_graphs_match_jax_values_and_derivatives(data):
    prob = data.draw(problems())
    expr, ref = data.draw(expressions(prob, depth=3))
    expr = expr + 0.0 * prob.vars[0]  # make sure the root lives on the points
    full = lambda X: jnp.broadcast_to(ref(X) + 0.0 * X[:, :1], (X.shape[0], 1))  # noqa: E731
    i = data.draw(st.integers(0, prob.d - 1))
    k = data.draw(st.integers(0, prob.d - 1))
    xi, xk = prob.vars[i], prob.vars[k]
    program = Program([expr, pl.diff(expr, xi), pl.diff(expr, xi, order=2), pl.diff(pl.diff(expr, xi), xk)])
    params = {key: h.get_trainable() for key, h in program.handles.items()}

    def both(params, data, X):  # one compile per example for pinnlang and the references together
        d_i = lambda Y: jvp_derivative(full, Y, i)  # noqa: E731
        return program.evaluate(params, data), [full(X), d_i(X), jvp_derivative(d_i, X, i), jvp_derivative(d_i, X, k)]

    got, want = jax.jit(both)(params, program.data(jax.random.PRNGKey(0)), jnp.asarray(prob.points))
    for g, w in zip(got, want):
        assert g.shape == (prob.n, 1)
        close(np.asarray(g), np.asarray(w))


# -- misuse ------------------------------------------------------------------------------------------------------


@st.composite
def fields(draw):
    """A field over ``n`` points with ``k`` components (``k != n``), and its values."""
    n = draw(st.integers(2, 6))
    k = draw(st.sampled_from([c for c in (1, 2, 3) if c != n]))
    pts = np.linspace(-1, 1, n, dtype=np.float32)[:, None]
    x, _ = pl.domain.from_array({"p": pts}).variable("p")
    u = pl.np.concatenate([x * float(c + 1) for c in range(k)])
    return u, pts * (np.arange(k, dtype=np.float32) + 1), n, k


@given(f=fields(), shape=st.lists(st.sampled_from(["1", "k", "n", "n+1", "2"]), min_size=0, max_size=3),
       op=st.sampled_from(["+", "-", "*", "where"]), left=st.booleans())
def test_arrays_against_fields_broadcast_only_deliberately(f, shape, op, left):
    u, uval, n, k = f
    sizes = {"1": 1, "k": k, "n": n, "n+1": n + 1, "2": 2}
    s = tuple(sizes[t] for t in shape)
    arr = np.arange(1, int(np.prod(s, dtype=int)) + 1, dtype=np.float32).reshape(s)
    build = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
             "where": lambda a, b: pl.np.where(u > 0.0, a, b)}[op]
    try:
        expr = build(arr, u) if left else build(u, arr)
    except PinnlangError:
        return  # refused when built: fine
    shape_out = expr.shape
    assert shape_out[0] == n  # the point axis stays first
    if s and s[0] == n:  # one row per point: never more than the field
        assert shape_out == (n, k)
    assert n not in shape_out[1:]  # no axis pairs the points with n other values
    (value,) = evaluate([expr])  # and it evaluates (no XLA error) to NumPy's broadcast
    npref = {"+": np.add, "-": np.subtract, "*": np.multiply,
             "where": lambda a, b: np.where(uval > 0.0, a, b)}[op]
    want = npref(arr, uval) if left else npref(uval, arr)
    np.testing.assert_allclose(value, want, rtol=1e-6)


@given(f=fields(), index=st.integers(-5, 5))
def test_random_components(f, index):
    u, uval, n, k = f
    if -k <= index < k:
        (value,) = evaluate([u[index]])
        np.testing.assert_allclose(value, uval[:, [index]], rtol=1e-6)
    else:
        with pytest.raises(PinnlangError, match="out of range"):
            u[index]


NON_VALUES = [None, "x", {"a": 1}, object(), [1.0, "a"], {1, 2}, b"bytes"]


@given(f=fields(), bad=st.sampled_from(range(len(NON_VALUES))), op=st.sampled_from(["+", "*", "sin", "diff"]))
def test_non_values_raise_pinnlang_errors(f, bad, op):
    u, uval, n, k = f
    value = NON_VALUES[bad]
    with pytest.raises(PinnlangError):
        if op == "+":
            u + value
        elif op == "*":
            value * u
        elif op == "sin":
            pl.np.sin(value)
        else:
            pl.diff(u, value)


@given(width=st.integers(1, 3), given_width=st.integers(1, 4))
def test_model_input_widths(width, given_width):
    pts = np.zeros((3, given_width), np.float32)
    variables = pl.domain.from_array({"p": pts}).variable("p").spatial
    net = pl.nn.wrap(pl.nn.mlp(width, hidden_dims=2, num_layers=1, key=jax.random.PRNGKey(0)))
    if width == given_width:
        assert net(*variables).shape == (3, 1)
    else:
        with pytest.raises(PinnlangError, match=f"expects {width} input column"):
            net(*variables)


ORDERS = [0, 1, 2, np.int64(2), np.int32(1), True, False, -1, 1.5, "2", None, np.float64(2.0)]


@given(order=st.sampled_from(range(len(ORDERS))))
def test_integer_arguments_accept_numpy_integers_and_reject_everything_else(order):
    value = ORDERS[order]
    x, _ = pl.domain.line(mesh_size=0.25).variable("interior")
    valid = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0
    if valid:
        assert pl.diff(pl.np.sin(x), x, order=value) is not None
    else:
        with pytest.raises(PinnlangError, match="non-negative integer"):
            pl.diff(pl.np.sin(x), x, order=value)
