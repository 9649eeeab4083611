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
