"""``pinnlang.host_keys.fold_in`` gives exactly ``jax.random.fold_in``'s key, without compiling."""

import jax
import numpy as np

from pinnlang.host_keys import fold_in


def test_fold_in_on_the_host_equals_jax_bit_for_bit():
    rng = np.random.default_rng(0)
    keys = [jax.random.PRNGKey(s) for s in (0, 1, 42, 2**31 - 1)]
    keys += [jax.numpy.asarray(rng.integers(0, 2**32, 2, dtype=np.uint64).astype(np.uint32)) for _ in range(20)]
    for key in keys:
        for data in [0, 1, 2, 255, 2**31 - 1, 2**32 - 1] + [int(d) for d in rng.integers(0, 2**32, 4)]:
            want, got = jax.random.fold_in(key, data), fold_in(key, data)
            assert isinstance(got, jax.Array) and got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_other_keys_and_data_go_to_jax():
    typed = jax.random.key(3)
    assert jax.random.key_data(fold_in(typed, 1)).tolist() == jax.random.key_data(jax.random.fold_in(typed, 1)).tolist()
    key = jax.random.PRNGKey(0)
    np.testing.assert_array_equal(np.asarray(fold_in(key, np.int32(5))), np.asarray(jax.random.fold_in(key, 5)))


def test_fold_all_is_fold_in_elementwise_with_broadcasting():
    from pinnlang.host_keys import fold_all

    rng = np.random.default_rng(1)
    keys = rng.integers(0, 2**32, (3, 1, 2), dtype=np.uint64).astype(np.uint32)
    data = np.array([[0, 7, 2**31 + 1, 2**32 - 1]], dtype=np.uint64)  # (1, 4): broadcast to (3, 4)
    got = fold_all(keys, data)
    assert got.shape == (3, 4, 2) and got.dtype == np.uint32
    for i in range(3):
        for j in range(4):
            want = jax.random.fold_in(jax.numpy.asarray(keys[i, 0]), int(data[0, j]))
            np.testing.assert_array_equal(got[i, j], np.asarray(want))


def test_a_solves_step_keys_are_the_documented_paths():
    """Chain k's kernel key for group g at step t: fold_in(fold_in(fold_in(fold_in(key, CHAIN_STREAM), k), g), t)."""
    import blackjax

    import pinnlang as pl
    from pinnlang.solve.step import fold_step
    from pinnlang.solve.streams import CHAIN_STREAM

    a = pl.np.parameter((1,), name="a", init=[0.0])
    a.bayesian(blackjax.mala, step_size=0.1, num_chains=3, warmup=0, keep=5, adapt=False)
    crux = pl.core([(a * a).sum])
    crux.solve(5)
    engine, key = crux._engine, crux._state.key
    bases = engine.step_bases(key)
    keys = fold_step(bases, 4)["kernel"]  # (K, D, 2)
    for k in range(3):
        want = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, CHAIN_STREAM), k),
                                                     0), 4)
        np.testing.assert_array_equal(np.asarray(keys[k, 0]), np.asarray(want))


def test_bits32_on_the_host_equals_jax_random_bits():
    from pinnlang.host_keys import bits32

    for seed in (0, 1, 2**31 - 1):
        key = jax.random.PRNGKey(seed)
        for n in (1, 2, 17, 1000):
            want = np.asarray(jax.random.bits(key, (n,), jax.numpy.uint32))
            np.testing.assert_array_equal(bits32(key, n), want)
    assert bits32(jax.random.key(0), 4) is None  # typed keys: JAX's own draw
    assert jax.jit(lambda k: jax.numpy.float32(bits32(k, 4) is None))(jax.random.PRNGKey(0)) == 1.0  # traced
