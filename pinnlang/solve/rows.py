"""Per-step records of a pytree as rows of one flat buffer per dtype.

Inside the chunk loop every record is an in-place ``dynamic_update_slice``, and on a CPU each costs
about half a microsecond whatever its size: writing a pytree of ten small leaves leaf by leaf costs
more than a small network's step. :class:`Rows` concatenates the leaves into one row, so a record is
one write; :meth:`Rows.unpack` cuts the buffers back into the pytree once per chunk, on the host (NumPy
views and copies: cutting them inside the program cost XLA a kernel to compile per leaf). Booleans, small
integers (converted, exactly) and integers as wide as the float row (their bits reinterpreted, not
converted: every value survives) ride in the float row; other dtypes get a row of their own.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


class Rows:
    """Rows of ``n`` records of a pytree with the leaf shapes ``shapes`` (``ShapeDtypeStruct`` leaves).

    ``zeros()`` gives the buffers ``{dtype name: (n, width)}``; ``put(buffers, tree, i)`` writes ``tree``
    as row ``i``; ``unpack(buffers, rows)`` gives the pytree of NumPy arrays with a leading ``(rows,)`` axis
    on every leaf (the first ``rows`` records; all ``n`` by default).
    """

    def __init__(self, shapes, n: int):
        self.n = n
        leaves, self.treedef = jax.tree_util.tree_flatten(shapes)
        self.shapes = [tuple(l.shape) for l in leaves]
        self.dtypes = [np.dtype(l.dtype) for l in leaves]
        floating = np.dtype(jnp.zeros(()).dtype)  # float32, or float64 under jax_enable_x64
        self.slots = []  # per leaf: (row dtype name, start column, size)
        widths: dict = {}
        self.modes = []  # per leaf: how it enters its row ("same", "convert" or "bits")
        for shape, dtype in zip(self.shapes, self.dtypes):
            size = math.prod(shape)
            integer = np.issubdtype(dtype, np.integer)
            if dtype == floating:
                mode = "same"
            elif dtype == np.bool_ or (integer and dtype.itemsize < 4):
                mode = "convert"  # flags and 8/16-bit integers are exact in any float row
            elif integer and dtype.itemsize == floating.itemsize:
                mode = "bits"
            else:
                mode = None
            name = floating.name if mode else dtype.name
            self.modes.append(mode or "same")
            self.slots.append((name, widths.get(name, 0), size))
            widths[name] = widths.get(name, 0) + size
        self.widths = widths

    def zeros(self) -> dict:
        return {name: jnp.zeros((self.n, w), np.dtype(name)) for name, w in self.widths.items()}

    def put(self, buffers: dict, tree, i) -> dict:
        leaves = self.treedef.flatten_up_to(tree)
        rows = {name: [] for name in self.widths}
        for (name, _, _), leaf, dtype, mode in zip(self.slots, leaves, self.dtypes, self.modes):
            leaf = jnp.asarray(leaf).astype(dtype)
            leaf = jax.lax.bitcast_convert_type(leaf, name) if mode == "bits" else leaf.astype(name)
            rows[name].append(jnp.ravel(leaf))
        return {name: jax.lax.dynamic_update_index_in_dim(buffers[name], jnp.concatenate(parts), i, 0)
                for name, parts in rows.items()}

    def unpack(self, buffers: dict, rows: int | None = None):
        rows = self.n if rows is None else rows
        host = {name: np.asarray(b)[:rows] for name, b in buffers.items()}
        leaves = []
        for (name, start, size), shape, dtype, mode in zip(self.slots, self.shapes, self.dtypes, self.modes):
            block = host[name][:, start:start + size].reshape((rows,) + shape)
            # the bits of a 32-bit integer reinterpreted, as ``lax.bitcast_convert_type`` wrote them
            leaves.append(np.ascontiguousarray(block).view(dtype) if mode == "bits" else block.astype(dtype))
        return jax.tree_util.tree_unflatten(self.treedef, leaves)
