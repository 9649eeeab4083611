"""LoRA adapters: the adapted forward pass, which leaves move, solves (Adam, NUTS, masks, VI), merge, checkpoints."""

import logging

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl
from run_helpers import assert_save_load_continue_is_one_run, randomise_adapters
from pinnlang.errors import ConfigurationError
from pinnlang.nn import LoRALinear
from pinnlang.solve.plan import FIXED, Plan
from pinnlang.solve.posterior import CONSTANT, DRAWS, STEPS
from pinnlang.trace.groups import trainable_paths


class Nested(eqx.Module):
    """A user module with linears at two depths and a non-linear leaf (``scale``) that stays trainable."""

    blocks: tuple
    head: eqx.nn.Linear
    scale: jax.Array

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.blocks = (eqx.nn.Linear(3, 5, key=k1), {"inner": eqx.nn.Linear(5, 4, key=k2)})
        self.head = eqx.nn.Linear(4, 2, key=k3)
        self.scale = jnp.asarray(1.5)

    def __call__(self, x):
        h = jnp.tanh(self.blocks[0](x))
        h = jnp.tanh(self.blocks[1]["inner"](h))
        return self.scale * self.head(h)


def linears(module):
    return [l for l in jax.tree_util.tree_leaves(module, is_leaf=lambda x: isinstance(x, (eqx.nn.Linear, LoRALinear)))
            if isinstance(l, (eqx.nn.Linear, LoRALinear))]


def fit_problem(hidden=8, target=lambda x: pl.np.sin(3 * x)):
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=hidden, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    return dom, x, net, target(x)


def base_leaves(module):
    """The weights and biases of the base layers of an adapted module (or of a plain one)."""
    out = []
    for l in linears(module):
        l = l.base if isinstance(l, LoRALinear) else l
        out += [np.asarray(l.weight), np.asarray(l.bias)]
    return out


# -- the module ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [
    lambda k: pl.nn.mlp(2, output_dim=3, hidden_dims=6, num_layers=2, key=k),
    lambda k: eqx.nn.MLP(2, 3, 6, 2, key=k),
    lambda k: Nested(k),
], ids=["pl.nn.mlp", "eqx.nn.MLP", "nested"])
def test_adapted_module_equals_its_base_exactly_at_the_start(build, key):
    module = build(key)
    d = 3 if isinstance(module, Nested) else 2
    adapted = pl.nn.lora(module, 2, alpha=3.0, key=jax.random.PRNGKey(7))
    assert len(linears(adapted)) == len(linears(module))
    assert all(isinstance(l, LoRALinear) for l in linears(adapted))
    xs = jax.random.normal(jax.random.PRNGKey(1), (17, d))
    np.testing.assert_array_equal(jax.vmap(adapted)(xs), jax.vmap(module)(xs))
    assert all(np.any(np.asarray(l.A) != 0) and np.all(np.asarray(l.B) == 0) for l in linears(adapted))


def test_forward_equals_w_x_plus_b_plus_scaled_b_a_x_against_numpy(key):
    rank, alpha = 2, 3.0
    module = Nested(key)
    adapted = randomise_adapters(pl.nn.lora(module, rank, alpha=alpha, key=jax.random.PRNGKey(3)),
                                 jax.random.PRNGKey(4))
    xs = np.asarray(jax.random.normal(jax.random.PRNGKey(5), (11, 3)), np.float64)

    def layer(l, h):  # float64 NumPy: W h + b + (alpha / rank) B (A h), per point
        W, b = np.asarray(l.base.weight, np.float64), np.asarray(l.base.bias, np.float64)
        A, B = np.asarray(l.A, np.float64), np.asarray(l.B, np.float64)
        return h @ W.T + b + (alpha / rank) * (h @ A.T) @ B.T

    h = np.tanh(layer(adapted.blocks[0], xs))
    h = np.tanh(layer(adapted.blocks[1]["inner"], h))
    ref = 1.5 * layer(adapted.head, h)
    got = np.asarray(jax.vmap(adapted)(jnp.asarray(xs, jnp.float32)))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    # the adapters matter: without them the output differs by far more than the tolerance
    assert np.max(np.abs(got - np.asarray(jax.vmap(module)(jnp.asarray(xs, jnp.float32))))) > 1e-2


def test_merge_folds_the_adapters_into_plain_linears(key):
    module = Nested(key)
    adapted = randomise_adapters(pl.nn.lora(module, 2, alpha=0.5, key=key), jax.random.PRNGKey(9))
    merged = pl.nn.merge(adapted)
    assert jax.tree_util.tree_structure(merged) == jax.tree_util.tree_structure(module)
    xs = jax.random.normal(jax.random.PRNGKey(2), (31, 3))
    np.testing.assert_allclose(jax.vmap(merged)(xs), jax.vmap(adapted)(xs), rtol=0, atol=1e-6)
    W = adapted.head.base.weight + 0.25 * adapted.head.B @ adapted.head.A
    np.testing.assert_allclose(merged.head.weight, W, rtol=1e-6, atol=1e-7)
    assert pl.nn.merge(module) is not None and jax.tree_util.tree_structure(pl.nn.merge(module)) == \
        jax.tree_util.tree_structure(module)


def test_where_adapts_only_the_chosen_layers(key):
    module = pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=key)
    # rank 4 > min(1, 8) of the first layer (and of the head): adapt the middle layer only
    with pytest.raises(ConfigurationError, match=r"rank 4 exceeds min\(in, out\) = 1 of the layer \.layers\[0\]"):
        pl.nn.lora(module, 4, key=key)
    adapted = pl.nn.lora(module, 4, key=key, where=lambda m: m.layers[1])
    kinds = [type(l).__name__ for l in linears(adapted)]
    assert kinds == ["Linear", "LoRALinear", "Linear"]
    assert adapted.layers[1].A.shape == (4, 8) and adapted.layers[1].B.shape == (8, 4)
    with pytest.raises(ConfigurationError, match="where=...* must return eqx.nn.Linear"):
        pl.nn.lora(module, 1, key=key, where=lambda m: m.activation)


# -- which leaves are trainable -------------------------------------------------------------------------
def test_only_the_adapters_are_trainable_and_counted(key):
    net = pl.nn.wrap(Nested(key), name="n")
    net.lora(2)
    paths = trainable_paths(net.module)
    free = [p for p, f in zip(paths, net.fixed_flags) if not f]
    assert free == [".blocks[0].A", ".blocks[0].B", ".blocks[1]['inner'].A", ".blocks[1]['inner'].B", ".head.A",
                    ".head.B"]  # .scale, an array outside the linears, is fixed too
    n_adapters = 2 * (3 + 5) + 2 * (5 + 4) + 2 * (4 + 2)
    n_base = (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2) + 1
    assert repr(net) == f"<Model n: Nested, {n_adapters} trainable values ({n_base} fixed)>"
    plan = Plan({net.key_name: net}, {})
    (group,) = plan.groups
    labels = plan.labels[net.key_name]
    assert [lab == FIXED for lab in labels] == list(net.fixed_flags)
    net.bayesian(blackjax.nuts)
    plan = Plan({net.key_name: net}, {})
    assert [lab == FIXED for lab in plan.labels[net.key_name]] == list(net.fixed_flags)


def test_layers_left_out_by_where_are_fixed_on_the_handle_but_trainable_in_a_wrapped_module(key):
    module = pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=key)
    net = pl.nn.wrap(module, name="u").lora(2, where=lambda m: m.layers[1])
    free = [p for p, f in zip(trainable_paths(net.module), net.fixed_flags) if not f]
    assert free == [".layers[1].A", ".layers[1].B"]
    own = pl.nn.wrap(pl.nn.lora(module, 2, key=key, where=lambda m: m.layers[1]), name="v")
    free = [p for p, f in zip(trainable_paths(own.module), own.fixed_flags) if not f]
    assert free == [".layers[0].weight", ".layers[0].bias", ".layers[1].A", ".layers[1].B", ".output_layer.weight",
                    ".output_layer.bias"]  # only the adapted layer's base is fixed
    net.module = pl.nn.merge(net.module)  # no adapters left: the whole module trains again
    assert net.fixed_flags is None


def test_adam_trains_only_the_adapters_and_improves_the_fit():
    dom, x, net, target = fit_problem()
    net.optimizer(optax.adam(1e-2))
    crux = pl.core([(net(x) - target).mse])
    crux.solve(200)  # the base: sin(3x)
    base = base_leaves(net.module)
    net.lora(1, alpha=2.0, key=jax.random.PRNGKey(1)).optimizer(optax.adam(1e-2))
    crux2 = pl.core([(net(x) - pl.np.sin(3 * x) - 0.5 * x).mse])  # a new target
    start = float(crux2.eval((net(x) - pl.np.sin(3 * x) - 0.5 * x).mse))
    crux2.solve(300)
    end = float(crux2.history.total[-1])
    for a, b in zip(base, base_leaves(net.module)):
        np.testing.assert_array_equal(a, b)  # bit for bit
    assert end < 0.1 * start, (start, end)
    moved = [np.max(np.abs(np.asarray(l.B))) for l in linears(net.module)]
    assert min(moved) > 0


def test_initialize_with_a_function_keeps_the_base(key):
    _, _, net, _ = fit_problem()
    base = base_leaves(net.module)
    net.lora(1).initialize(lambda shape, dtype, k: jnp.full(shape, 0.25, dtype))
    for a, b in zip(base, base_leaves(net.module)):
        np.testing.assert_array_equal(a, b)
    assert all(np.all(np.asarray(l.B) == 0.25) for l in linears(net.module))


# -- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rank, match", [(0, "positive integer"), (True, "positive integer"),
                                         (1.5, "positive integer"), (9, r"rank 9 exceeds min\(in, out\) = 1")])
def test_bad_rank_is_a_configuration_error(rank, match, key):
    _, _, net, _ = fit_problem()
    with pytest.raises(ConfigurationError, match=match):
        net.lora(rank)


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), "1"])
def test_bad_alpha_is_a_configuration_error(alpha):
    _, _, net, _ = fit_problem()
    with pytest.raises(ConfigurationError, match="lora alpha must be a positive number"):
        net.lora(1, alpha=alpha)


def test_module_without_linear_layers_and_lora_twice_are_errors(key):
    with pytest.raises(ConfigurationError, match="no eqx.nn.Linear"):
        pl.nn.lora(pl.nn.FourierFeatures(1, 4, key=key), 1, key=key)
    _, _, net, _ = fit_problem()
    net.lora(1)
    with pytest.raises(ConfigurationError, match=r"already has LoRA adapters.*pl\.nn\.merge"):
        net.lora(1)
    net.module = pl.nn.merge(net.module)  # folding first makes a second round possible
    net.lora(1)


def test_masks_must_leave_the_base_alone_and_come_after_lora(key):
    _, _, net, _ = fit_problem()
    head = lambda m: eqx.tree_at(lambda t: t.output_layer, jax.tree_util.tree_map(lambda _: False, m),  # noqa: E731
                                 replace=jax.tree_util.tree_map(lambda _: True, m.output_layer))
    net.mask(head).bayesian(blackjax.sgld, step_size=1e-4)
    with pytest.raises(ConfigurationError, match=r"masks set on it before no longer fit.*lora\(\.\.\.\) first"):
        net.lora(1)
    _, _, net, _ = fit_problem()
    net.lora(1)
    with pytest.raises(ConfigurationError, match=r"selects \.output_layer\.base\.weight, a fixed leaf.*adapters"):
        net.mask(head)


# -- solves ----------------------------------------------------------------------------------------------
def nuts_problem(mask=None, optimise=False):
    """A rank-1 LoRA on a 1-8-1 net, NUTS on 16 noisy points of sin(πx)."""
    xs = np.linspace(-1, 1, 16, dtype=np.float32).reshape(-1, 1)
    ys = (np.sin(np.pi * xs) + 0.1 * np.random.default_rng(0).normal(size=xs.shape)).astype(np.float32)
    dom = pl.domain.from_array({"train": xs})
    x, _ = dom.variable("train")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(0)), name="u").lora(1)
    kw = dict(warmup=20, keep=12, prior=pl.bayesian.priors.gaussian(1.0))
    if optimise:
        net.optimizer(optax.adam(1e-2))
    (net.mask(mask) if mask is not None else net).bayesian(blackjax.nuts, **kw)
    return dom, x, net, pl.core([(net(x) - ys).gaussian_nll(0.1)], seed=3)


@pytest.fixture(scope="module")
def sampled_lora():
    """The rank-1 NUTS problem, solved once for the tests below: (domain, x, net, core, base leaves before)."""
    dom, x, net, crux = nuts_problem()
    base = base_leaves(net.module)
    crux.solve(32)
    return dom, x, net, crux, base


def test_bayesian_lora_samples_the_adapters_and_keeps_the_base_constant(sampled_lora):
    dom, x, net, crux, base = sampled_lora
    chain = net.posterior_samples
    for a, b in zip(base, base_leaves(chain)):
        assert b.shape == (1, 12) + a.shape
        np.testing.assert_array_equal(b, np.broadcast_to(a, b.shape))
    first, head = linears(chain)
    assert [np.shape(a) for a in (first.A, first.B, head.A, head.B)] == [(1, 12, 1, 1), (1, 12, 8, 1),
                                                                         (1, 12, 1, 8), (1, 12, 1, 1)]
    kinds = [kind for kind, _ in net._posterior.sources]
    assert kinds == [CONSTANT, CONSTANT, DRAWS, DRAWS] * 2
    assert np.var(np.asarray(chain.output_layer.B)[0], axis=0).max() > 0  # the adapters move
    u = np.asarray(crux.eval(net(x)))
    assert u.shape == (1, 12, 16, 1) and np.all(np.isfinite(u))
    n = 5  # the push-forward is the adapted module at the draw
    draw = jax.tree_util.tree_map(lambda l: l[0, n] if eqx.is_array(l) else l, chain)
    np.testing.assert_allclose(u[0, n], jax.vmap(draw)(jnp.asarray(dom.context["train"])), rtol=1e-5, atol=1e-6)


def test_bayesian_lora_equals_a_mask_over_all_adapters(sampled_lora):
    """The LoRA partition restricts .bayesian(...) to the adapters exactly as a mask selecting them would."""
    whole = sampled_lora[2]
    def adapters(m):
        return eqx.tree_at(lambda t: (t.layers[0].A, t.layers[0].B, t.output_layer.A, t.output_layer.B),
                           jax.tree_util.tree_map(lambda _: False, m), replace=(True,) * 4)

    _, _, masked, crux_b = nuts_problem(mask=adapters)
    crux_b.solve(32)
    for a, b in zip(jax.tree_util.tree_leaves(whole.posterior_samples),
                    jax.tree_util.tree_leaves(masked.posterior_samples)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_mask_on_the_head_adapters_with_the_rest_trained():
    """Pattern B on adapters: the head's adapters sampled, the first layer's trained, the base fixed."""
    def head_adapters(m):
        return eqx.tree_at(lambda t: (t.output_layer.A, t.output_layer.B), jax.tree_util.tree_map(lambda _: False, m),
                           replace=(True, True))

    dom, x, net, crux = nuts_problem(mask=head_adapters, optimise=True)
    base = base_leaves(net.module)
    A0 = np.asarray(net.module.layers[0].A)
    crux.solve(32)
    kinds = [kind for kind, _ in net._posterior.sources]
    assert kinds == [CONSTANT, CONSTANT, STEPS, STEPS, CONSTANT, CONSTANT, DRAWS, DRAWS]
    assert not np.array_equal(np.asarray(net.module.layers[0].A), A0)  # trained by Adam
    for a, b in zip(base, base_leaves(net.module)):
        np.testing.assert_array_equal(a, b)


def test_vi_on_a_lora_model_fits_only_the_adapters():
    xs = np.linspace(-1, 1, 16, dtype=np.float32).reshape(-1, 1)
    dom = pl.domain.from_array({"train": xs})
    x, _ = dom.variable("train")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(0)), name="u").lora(1)
    base = base_leaves(net.module)
    net.vi(blackjax.meanfield_vi, optimizer=optax.adam(1e-2), posterior_draws=20)
    crux = pl.core([(net(x) - np.sin(np.pi * xs)).gaussian_nll(0.1)])
    crux.solve(20)
    for a, b in zip(base, base_leaves(net.posterior_samples)):
        np.testing.assert_array_equal(np.broadcast_to(a, b.shape), b)
    assert np.var(np.asarray(net.posterior_samples.output_layer.A)[0], axis=0).max() > 0


def test_eval_after_lora_on_the_same_core_sees_the_adapted_module(key):
    dom, x, net, target = fit_problem()
    net.optimizer(optax.adam(1e-2))
    crux = pl.core([(net(x) - target).mse])
    crux.solve(50)
    before = np.asarray(crux.eval(net(x)))
    net.lora(1).optimizer(optax.adam(1e-2))
    np.testing.assert_array_equal(np.asarray(crux.eval(net(x))), before)  # B = 0: unchanged, and no stale statics
    crux.solve(50)
    after = np.asarray(crux.eval(net(x)))
    pts = jnp.asarray(dom.context["interior"])
    np.testing.assert_allclose(after, jax.vmap(net.module)(pts), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(after, jax.vmap(pl.nn.merge(net.module))(pts), rtol=0, atol=1e-6)
    assert np.max(np.abs(after - before)) > 1e-4


def test_lora_drops_draws_of_the_unadapted_module_with_a_warning(caplog):
    xs = np.linspace(-1, 1, 8, dtype=np.float32).reshape(-1, 1)
    dom = pl.domain.from_array({"train": xs})
    x, _ = dom.variable("train")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    net.bayesian(blackjax.sgld, step_size=1e-4, warmup=0, keep=3)
    pl.core([(net(x) - xs).mse]).solve(3)
    assert net.posterior_samples is not None
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        net.lora(1)
    assert net.posterior_samples is None and any("posterior draws" in r.message for r in caplog.records)


def test_checkpoint_round_trip_of_a_lora_model(tmp_path):
    def problem():
        dom, x, net, target = fit_problem()
        net.lora(1, alpha=2.0, key=jax.random.PRNGKey(1)).optimizer(optax.adam(1e-2))
        return pl.core([(net(x) - target).mse], seed=0), net

    assert_save_load_continue_is_one_run(problem, tmp_path / "ck")
    _, x, plain_net, target = fit_problem()  # the same problem without adapters
    plain = pl.core([(plain_net(x) - target).mse], seed=0)
    with pytest.raises(pl.errors.CheckpointError, match="leaves"):
        plain.load(tmp_path / "ck")
