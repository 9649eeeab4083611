"""Helpers shared by test modules: save, load and continue equal one uninterrupted run; trained-looking adapters."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from pinnlang.nn.lora import LoRALinear


def module_leaves(handle) -> list:
    """Every array leaf of a handle's values (a model's whole module, fixed leaves included)."""
    tree = handle.module if hasattr(handle, "module") else handle.get_trainable()
    return [np.asarray(l) for l in jax.tree_util.tree_leaves(tree)]


def assert_same(xs, ys):
    assert len(xs) == len(ys)
    for u, v in zip(xs, ys):
        np.testing.assert_array_equal(u, v)


def assert_save_load_continue_is_one_run(problem, path, epochs: int = 30, print_rate: int = 10):
    """``problem() -> (crux, handle)``: two solves of ``epochs`` equal one solve, a save, a load into a fresh
    core and a second solve, bit for bit (the loaded values too). Returns ``(loaded core, reference core)``."""
    ref, ref_handle = problem()
    ref.solve(epochs, print_rate=print_rate)
    ref.solve(epochs, print_rate=print_rate)
    first, handle = problem()
    first.solve(epochs, print_rate=print_rate)
    first.save(path)
    again, loaded = problem()
    again.load(path)
    assert_same(module_leaves(loaded), module_leaves(handle))
    again.solve(epochs, print_rate=print_rate)
    assert_same(module_leaves(loaded), module_leaves(ref_handle))
    return again, ref


def randomise_adapters(module, key):
    """Non-zero A and B in every adapted layer (a trained-looking adapter)."""
    def fill(layer):
        if not isinstance(layer, LoRALinear):
            return layer
        nonlocal key
        key, ka, kb = jax.random.split(key, 3)
        return eqx.tree_at(lambda l: (l.A, l.B), layer, (jax.random.normal(ka, layer.A.shape),
                                                         jax.random.normal(kb, layer.B.shape)))

    return jax.tree_util.tree_map(fill, module, is_leaf=lambda x: isinstance(x, LoRALinear))
