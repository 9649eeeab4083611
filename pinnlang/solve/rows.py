"""Per-step records of a pytree as rows of one flat buffer per dtype.

Inside the chunk loop every record is an in-place ``dynamic_update_slice``, and on a CPU each costs
about half a microsecond whatever its size: writing a pytree of ten small leaves leaf by leaf costs
more than a small network's step. :class:`Rows` concatenates the leaves into one row, so a record is
one write; :meth:`Rows.unpack` cuts the buffers back into the pytree once per chunk. Booleans and
integers of up to 32 bits ride in the float row (exact: flags, counts below 2^24 in float32) and are
cast back; other dtypes get a row of their own.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


class Rows:
    """Rows of ``n`` records of a pytree with the leaf shapes ``shapes`` (``ShapeDtypeStruct`` leaves).

    ``zeros()`` gives the buffers ``{dtype name: (n, width)}``; ``put(buffers, tree, i)`` writes ``tree``
    as row ``i``; ``unpack(buffers)`` gives the pytree with a leading ``(n,)`` axis on every leaf.
    """

    def __init__(self, shapes, n: int):
        self.n = n
        leaves, self.treedef = jax.tree_util.tree_flatten(shapes)
        self.shapes = [tuple(l.shape) for l in leaves]
        self.dtypes = [np.dtype(l.dtype) for l in leaves]
        floating = np.dtype(jnp.zeros(()).dtype)  # float32, or float64 under jax_enable_x64
        self.slots = []  # per leaf: (row dtype name, start column, size)
        widths: dict = {}
        for shape, dtype in zip(self.shapes, self.dtypes):
            size = math.prod(shape)
            small = dtype == np.bool_ or (np.issubdtype(dtype, np.integer) and dtype.itemsize <= 4)
            name = floating.name if small or dtype == floating else dtype.name
            self.slots.append((name, widths.get(name, 0), size))
            widths[name] = widths.get(name, 0) + size
        self.widths = widths

    def zeros(self) -> dict:
        return {name: jnp.zeros((self.n, w), np.dtype(name)) for name, w in self.widths.items()}

    def put(self, buffers: dict, tree, i) -> dict:
        leaves = self.treedef.flatten_up_to(tree)
        rows = {name: [] for name in self.widths}
        for (name, _, _), leaf in zip(self.slots, leaves):
            rows[name].append(jnp.ravel(jnp.asarray(leaf).astype(name)))
        return {name: jax.lax.dynamic_update_index_in_dim(buffers[name], jnp.concatenate(parts), i, 0)
                for name, parts in rows.items()}

    def unpack(self, buffers: dict):
        leaves = [buffers[name][:, start:start + size].reshape((self.n,) + shape).astype(dtype)
                  for (name, start, size), shape, dtype in zip(self.slots, self.shapes, self.dtypes)]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)
