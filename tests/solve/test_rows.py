"""Records as rows: a pytree written as one row per step and cut back into leaves equals the leaves, bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np

from pinnlang.solve.rows import Rows


def sample_tree(i):
    """Leaves of every kind the chunk loop records: floats of several shapes, flags, counts, an empty tuple."""
    return {"theta": jnp.arange(6.0).reshape(2, 3) * i, "b": jnp.float32(i) / 7,
            "infos": {"is_divergent": jnp.asarray([i % 2 == 0, i % 3 == 0]),
                      "num_integration_steps": jnp.asarray([2 ** 30 + i, -3 * i], jnp.int32)},  # not exact as floats
            "none": ()}


def test_rows_round_trip_every_leaf_exactly_with_its_dtype():
    shapes = jax.eval_shape(lambda: sample_tree(1))
    rows = Rows(shapes, 5)
    assert list(rows.widths) == ["float32"]  # flags and counts ride in the float row: one write a record
    buf = rows.zeros()
    put = jax.jit(rows.put)
    for i in range(4):  # row 4 stays zero
        buf = put(buf, sample_tree(i), i)
    out = rows.unpack(buf)
    for i in range(4):
        got = jax.tree_util.tree_map(lambda a, i=i: a[i], out)
        want = sample_tree(i)
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    assert not np.any(np.asarray(out["theta"][4])) and out["theta"].shape == (5, 2, 3)
    first = rows.unpack(buf, 2)  # the first records only, as a chunk shorter than the buffer reads them
    for g, w in zip(jax.tree_util.tree_leaves(first), jax.tree_util.tree_leaves(out)):
        assert isinstance(g, np.ndarray) and g.shape == (2,) + w.shape[1:] and g.dtype == w.dtype
        np.testing.assert_array_equal(g, w[:2])


def test_a_later_write_of_a_row_wins_and_any_32_bit_integer_survives():
    shapes = {"x": jax.ShapeDtypeStruct((2,), jnp.float32), "k": jax.ShapeDtypeStruct((2,), jnp.uint32)}
    rows = Rows(shapes, 3)
    assert list(rows.widths) == ["float32"]  # 32-bit integers keep their bits in the float row
    buf = rows.put(rows.zeros(), {"x": jnp.ones(2), "k": jnp.asarray([7, 2 ** 32 - 1], jnp.uint32)}, 1)
    buf = rows.put(buf, {"x": jnp.full(2, 3.0), "k": jnp.asarray([1, 2], jnp.uint32)}, 1)
    out = rows.unpack(buf)
    np.testing.assert_array_equal(out["x"][1], [3.0, 3.0])
    np.testing.assert_array_equal(out["k"][1], [1, 2])
    odd = Rows({"c": jax.ShapeDtypeStruct((1,), jnp.complex64)}, 2)
    assert sorted(odd.widths) == ["complex64"]  # anything else gets a row of its own
