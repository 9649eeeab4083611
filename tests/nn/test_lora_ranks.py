"""Per-layer LoRA ranks: ``rank`` as a dict of layer paths or a callable, rank 0 = no adapter, validation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError
from pinnlang.nn import LoRALinear
from pinnlang.trace.groups import trainable_paths
from run_helpers import randomise_adapters


class Nested(eqx.Module):
    """Linears at two depths: 3 -> 5, 5 -> 4 (under a dict), 4 -> 2."""

    blocks: tuple
    head: eqx.nn.Linear

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.blocks = (eqx.nn.Linear(3, 5, key=k1), {"inner": eqx.nn.Linear(5, 4, key=k2)})
        self.head = eqx.nn.Linear(4, 2, key=k3)

    def __call__(self, x):
        return self.head(jnp.tanh(self.blocks[1]["inner"](jnp.tanh(self.blocks[0](x)))))


def mlp(key=jax.random.PRNGKey(0)):
    """1 -> 8 -> 8 -> 1: layers[0] (1 -> 8), layers[1] (8 -> 8), output_layer (8 -> 1)."""
    return pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=key)


def test_dict_ranks_give_each_layer_its_adapter_shapes(key):
    module = Nested(key)
    adapted = pl.nn.lora(module, {".blocks[0]": 3, "blocks[1]['inner']": 2, ".head": 0}, alpha=2.0, key=key)
    first, inner = adapted.blocks[0], adapted.blocks[1]["inner"]
    assert isinstance(first, LoRALinear) and isinstance(inner, LoRALinear)
    assert (first.rank, first.A.shape, first.B.shape) == (3, (3, 3), (5, 3))
    assert (inner.rank, inner.A.shape, inner.B.shape) == (2, (2, 5), (4, 2))
    assert first.scale == 2.0 / 3 and inner.scale == 1.0
    assert adapted.head is module.head  # rank 0: the layer is left untouched
    xs = jax.random.normal(jax.random.PRNGKey(1), (9, 3))
    np.testing.assert_array_equal(jax.vmap(adapted)(xs), jax.vmap(module)(xs))  # B = 0 at the start


def test_unlisted_layers_get_no_adapter_and_draws_do_not_depend_on_the_selection(key):
    module = mlp(key)
    only = pl.nn.lora(module, {"layers[1]": 4}, key=jax.random.PRNGKey(3))
    assert [type(l).__name__ for l in (only.layers[0], only.layers[1], only.output_layer)] == \
        ["Linear", "LoRALinear", "Linear"]
    # one key per layer in flattening order, whichever layers are adapted: layer 1 draws with the second key
    keyed = jax.random.split(jax.random.PRNGKey(3), 3)[1]
    np.testing.assert_allclose(only.layers[1].A, jax.random.normal(keyed, (4, 8)) / np.sqrt(8.0), rtol=1e-6)


def test_callable_ranks_per_layer_and_with_where(key):
    module = mlp(key)
    adapted = pl.nn.lora(module, lambda l: min(l.weight.shape), key=key)  # the largest rank everywhere
    assert [l.rank for l in (adapted.layers[0], adapted.layers[1], adapted.output_layer)] == [1, 8, 1]
    seen = []

    def rank(layer):
        seen.append(layer.weight.shape)
        return 2

    picked = pl.nn.lora(module, rank, key=key, where=lambda m: (m.layers[1],))
    assert seen == [(8, 8)]  # called on the selected layers only
    assert isinstance(picked.layers[1], LoRALinear) and not isinstance(picked.layers[0], LoRALinear)
    zero_head = pl.nn.lora(module, lambda l: 0 if l.out_features == 1 else 1, key=key)
    assert zero_head.output_layer is module.output_layer


def test_parameter_counts_and_trainable_leaves_follow_the_ranks(key):
    net = pl.nn.wrap(Nested(key), name="n").lora({"blocks[0]": 3, "head": 1})
    free = [p for p, f in zip(trainable_paths(net.module), net.fixed_flags) if not f]
    assert free == [".blocks[0].A", ".blocks[0].B", ".head.A", ".head.B"]  # the rank-0 inner layer is fixed whole
    n_adapters = 3 * (3 + 5) + 1 * (4 + 2)
    n_fixed = (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2)
    assert repr(net) == f"<Model n: Nested, {n_adapters} trainable values ({n_fixed} fixed)>"


def test_merge_is_exact_with_per_layer_ranks(key):
    module = Nested(key)
    adapted = randomise_adapters(pl.nn.lora(module, {"blocks[0]": 3, "head": 2}, alpha=0.5, key=key), jax.random.PRNGKey(9))
    merged = pl.nn.merge(adapted)
    assert jax.tree_util.tree_structure(merged) == jax.tree_util.tree_structure(module)
    xs = jax.random.normal(jax.random.PRNGKey(2), (31, 3))
    np.testing.assert_allclose(jax.vmap(merged)(xs), jax.vmap(adapted)(xs), rtol=0, atol=1e-5)
    for got, layer in [(merged.blocks[0], adapted.blocks[0]), (merged.head, adapted.head)]:
        ref = np.asarray(layer.base.weight, np.float64) + (0.5 / layer.rank) * (
            np.asarray(layer.B, np.float64) @ np.asarray(layer.A, np.float64))
        np.testing.assert_allclose(got.weight, ref, rtol=1e-5, atol=1e-6)
    inner = [merged.blocks[1]["inner"], module.blocks[1]["inner"]]
    for a, b in zip(*(jax.tree_util.tree_leaves(m) for m in inner)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # the unadapted layer comes back as it was


# -- errors ----------------------------------------------------------------------------------------------
def test_unknown_path_names_the_available_layers(key):
    with pytest.raises(ConfigurationError, match=r"'layers\[5\]'.*does not have; its linear layers are "
                                                 r"\['\.layers\[0\]', '\.layers\[1\]', '\.output_layer'\]"):
        pl.nn.lora(mlp(key), {"layers[5]": 1}, key=key)


@pytest.mark.parametrize("rank, match", [
    ({"layers[0]": 2}, r"rank 2 exceeds min\(in, out\) = 1 of the layer \.layers\[0\] \(1 -> 8\)"),
    ({"layers[1]": -1}, r"lora rank of the layer \.layers\[1\] \(8 -> 8, from the rank dict\) must be a "
                        r"non-negative integer, got -1"),
    ({"layers[1]": 1.5}, r"\.layers\[1\].*non-negative integer, got 1\.5"),
    ({"layers[1]": True}, r"\.layers\[1\].*True/False are not accepted"),
    (lambda l: 9, r"rank 9 exceeds min\(in, out\) = 1 of the layer \.layers\[0\] \(1 -> 8\)"),
    (lambda l: "2", r"\.layers\[0\] \(1 -> 8, from the rank callable\) must be a non-negative integer"),
    ({"layers[1]": 0}, r"every layer rank 0: nothing would be adapted"),
    (lambda l: 0, r"every layer rank 0"),
])
def test_bad_per_layer_ranks_are_configuration_errors(rank, match, key):
    with pytest.raises(ConfigurationError, match=match):
        pl.nn.lora(mlp(key), rank, key=key)


def test_dict_rank_with_where_is_an_error(key):
    with pytest.raises(ConfigurationError, match=r"the dict already chooses the layers.*drop where"):
        pl.nn.lora(mlp(key), {"layers[1]": 2}, key=key, where=lambda m: m.layers[1])


# -- a fine-tuning solve -----------------------------------------------------------------------------------
def test_fine_tuning_with_per_layer_ranks_moves_only_the_adapted_layers():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(mlp(), name="u")
    net.optimizer(optax.adam(1e-2))
    pl.core([(net(x) - pl.np.sin(3 * x)).mse]).solve(200, progress=False)
    before = net.module
    net.lora({"layers[1]": 4, "output_layer": 1}, alpha=2.0, key=jax.random.PRNGKey(1)).optimizer(optax.adam(1e-2))
    loss = (net(x) - pl.np.sin(3 * x) - 0.5 * x).mse
    crux = pl.core([loss])
    start = float(crux.eval(loss))
    crux.solve(300, progress=False)
    assert float(crux.history.total[-1]) < 0.1 * start
    after = net.module
    assert not isinstance(after.layers[0], LoRALinear)
    for a, b in [(before.layers[0].weight, after.layers[0].weight),
                 (before.layers[1].weight, after.layers[1].base.weight),
                 (before.output_layer.weight, after.output_layer.base.weight)]:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # the base and the rank-0 layer, bit for bit
    assert np.max(np.abs(np.asarray(after.layers[1].B))) > 0 and after.layers[1].B.shape == (8, 4)
    pts = jnp.asarray(dom.context["interior"])
    np.testing.assert_allclose(jax.vmap(pl.nn.merge(after))(pts), jax.vmap(after)(pts), rtol=0, atol=1e-5)
