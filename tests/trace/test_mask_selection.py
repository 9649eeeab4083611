"""``net.mask(where)`` and ``pl.nn.mask_of`` with a callable selecting subtrees, against hand-built tree_at masks."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError


class Blocks(eqx.Module):
    """A tuple of layers, a bare array and a function leaf: ``(2,) -> (1,)``."""

    blocks: tuple
    scale: jax.Array
    act: object

    def __init__(self, key):
        k = jax.random.split(key, 3)
        self.blocks = (eqx.nn.Linear(2, 4, key=k[0]), eqx.nn.Linear(4, 4, key=k[1]), eqx.nn.Linear(4, 1, key=k[2]))
        self.scale = jnp.ones(4)
        self.act = jnp.tanh

    def __call__(self, x):
        for block in self.blocks[:-1]:
            x = self.act(block(x)) * self.scale
        return self.blocks[-1](x)


def hand_built(module, where):
    """The tutorials' explicit form: all False, then True on every leaf of each selected subtree."""
    all_false = jax.tree_util.tree_map(lambda _: False, module)
    picked = where(module)
    true = (tuple(jax.tree_util.tree_map(lambda _: True, p) for p in picked) if isinstance(picked, (tuple, list))
            else jax.tree_util.tree_map(lambda _: True, picked))
    return eqx.tree_at(where, all_false, replace=true)


def same_mask(got, want):
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    assert jax.tree_util.tree_leaves(got) == jax.tree_util.tree_leaves(want)
    assert all(type(leaf) is bool for leaf in jax.tree_util.tree_leaves(got))


MLP = eqx.nn.MLP(2, 1, 8, 2, key=jax.random.PRNGKey(0))
BLOCKS = Blocks(jax.random.PRNGKey(1))
CASES = [
    (MLP, lambda m: m.layers[-1]),
    (MLP, lambda m: m.layers[0]),
    (MLP, lambda m: m.layers),
    (MLP, lambda m: (m.layers[0], m.layers[-1].weight)),
    (MLP, lambda m: m.layers[1].bias),
    (BLOCKS, lambda m: m.blocks[1]),
    (BLOCKS, lambda m: m.blocks[1:]),
    (BLOCKS, lambda m: (m.blocks[0], m.scale)),
    (BLOCKS, lambda m: [m.blocks[2].weight]),
    (BLOCKS, lambda m: m.scale),
]


@pytest.mark.parametrize("module, where", CASES)
def test_mask_of_equals_the_hand_built_mask_leaf_for_leaf(module, where):
    same_mask(pl.nn.mask_of(module, where), hand_built(module, where))


@pytest.mark.parametrize("module, where", CASES)
def test_mask_with_a_selection_equals_the_bool_pytree_spelling(module, where):
    net = pl.nn.wrap(module, name="u")
    flags = net.mask(where).flags
    assert flags == net.mask(hand_built(module, where)).flags
    # the reference flags: True exactly on the trainable leaves that are (by identity) inside the selection
    inside = {id(l) for l in jax.tree_util.tree_leaves(where(module))}
    want = tuple(id(l) in inside for l in jax.tree_util.tree_leaves(module) if eqx.is_inexact_array(l))
    assert flags == want


def test_a_single_weight_selects_one_leaf():
    net = pl.nn.wrap(MLP, name="u")
    flags = net.mask(lambda m: m.layers[-1].weight).flags
    assert sum(flags) == 1 and flags.index(True) == 4  # leaves: w0 b0 w1 b1 w2 b2
    assert net._leaf_path(flags.index(True)) == ".layers[2].weight"


def test_callables_returning_bools_stay_masks():
    net = pl.nn.wrap(BLOCKS, name="u")
    mask = hand_built(BLOCKS, lambda m: m.blocks[0])
    assert net.mask(lambda m: mask).flags == (True, True, False, False, False, False, False)
    trainable = jax.tree_util.tree_map(lambda _: False, eqx.filter(BLOCKS, eqx.is_inexact_array))
    as_arrays = eqx.tree_at(lambda m: m.scale, trainable, replace=np.bool_(True))
    assert net.mask(lambda m: as_arrays).flags == (False,) * 6 + (True,)


@pytest.mark.parametrize("where, match", [
    (lambda m: m.layers[-1].weight.T, r"neither a part of the module nor a mask.*new array of shape \(8, 1\)"),
    (lambda m: (m.layers[0], jnp.ones(3)), r"neither.*\[1\] is a new array of shape \(3,\)"),
    (lambda m: 1.5, r"neither.*float 1\.5"),
    (lambda m: m.output_layer, r"callable raised AttributeError.*output_layer.*must return a part of it"),
    (lambda m: (m.layers[-1], m.layers[-1].weight), r"tree_at could not locate the selection.*twice"),
    (lambda m: m.activation, r"no trainable array in it.*select layers or weights"),
])
def test_callables_returning_neither_are_errors_naming_the_fix(where, match):
    net = pl.nn.wrap(MLP, name="u")
    with pytest.raises(ConfigurationError, match=match) as err:
        net.mask(where)
    assert str(err.value).startswith("u.mask: ") and "lambda m: m.output_layer" in str(err.value)


def test_a_subtree_given_directly_asks_for_a_callable():
    net = pl.nn.wrap(MLP, name="u")
    with pytest.raises(ConfigurationError, match=r"got Linear, a part of the module.*pass a callable"):
        net.mask(MLP.layers[-1])


def test_mask_of_rejects_masks_and_non_callables():
    with pytest.raises(ConfigurationError, match="returned a bool mask"):
        pl.nn.mask_of(MLP, lambda m: jax.tree_util.tree_map(lambda _: False, m))
    with pytest.raises(ConfigurationError, match="where must be a callable"):
        pl.nn.mask_of(MLP, MLP.layers[-1])
    with pytest.raises(ConfigurationError, match=r"^pl\.nn\.mask_of: .*new array"):
        pl.nn.mask_of(MLP, lambda m: m.layers[0].weight + 1)
