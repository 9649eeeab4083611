"""Issue 7 item 5: ESS and R-hat of chains that never move agree with ArviZ (0.23).

ArviZ's conventions: a component constant over all chains and draws has ESS equal to the number of
draws it used and R-hat NaN; chains stuck at different values have a tiny ESS and a huge R-hat.
"""

import logging

import numpy as np
import pytest

import pinnlang as pl

az = pytest.importorskip("arviz")
logging.getLogger("arviz").setLevel(logging.CRITICAL)  # its shape warnings for one chain are expected

RNG = np.random.default_rng(3)
RHAT = ("rank", "split", "folded", "z_scale", "identity")
ESS = ("bulk", "tail", "mean", "sd", "median", "mad", "z_scale", "folded", "identity")


def _near_constant_f32():
    return (1.0 + 1e-7 * RNG.integers(0, 2, size=(4, 100))).astype(np.float32)  # one float32 ulp apart


def _one_constant_chain():
    a = RNG.normal(size=(4, 100))
    a[0] = a[0, 0]
    return a


def _one_constant_component():
    a = RNG.normal(size=(3, 120, 2))
    a[:, :, 1] = 3.0
    return a


CASES = {
    "constant": lambda: np.full((4, 200), 2.0),
    "constant-odd-draws": lambda: np.full((3, 201), -1.5),
    "constant-float32": lambda: np.full((2, 64), 0.1, np.float32),
    "constant-one-chain": lambda: np.full((1, 50), 1.0),
    "one-constant-component": _one_constant_component,
    "one-constant-chain": _one_constant_chain,
    "stuck-apart": lambda: RNG.normal(size=(4, 1)) + np.zeros((4, 150)),
    "near-constant-float32": _near_constant_f32,
    "two-values": lambda: RNG.integers(0, 2, size=(4, 100)).astype(float),
}


def _arviz(fn, arr, **kw):
    return np.asarray(fn(az.convert_to_dataset(np.asarray(arr)), **kw)["x"].values)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ArviZ's own 0/0 for constant chains
@pytest.mark.parametrize("case", sorted(CASES))
def test_ess_and_rhat_of_chains_that_do_not_move_match_arviz(case):
    arr = CASES[case]()
    for method in RHAT:
        want = _arviz(az.rhat, arr, method=method)
        got = np.asarray(pl.bayesian.rhat(arr, method=method))
        np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True, err_msg=f"rhat {method}")
    for method in ESS:
        want = _arviz(az.ess, arr, method=method)
        got = np.asarray(pl.bayesian.ess(arr, method=method))
        np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True, err_msg=f"ess {method}")


def test_the_conventions_in_numbers():
    const = np.full((4, 200), 2.0)
    assert float(pl.bayesian.ess(const)) == 800.0  # S draws, not NaN
    assert np.isnan(pl.bayesian.rhat(const))
    comp = _one_constant_component()
    assert np.isnan(pl.bayesian.rhat(comp)[1]) and np.isfinite(pl.bayesian.rhat(comp)[0])
    assert pl.bayesian.ess(comp)[1] == 360.0
    stuck = RNG.normal(size=(4, 1)) + np.zeros((4, 150))
    assert pl.bayesian.ess(stuck) < 10 and pl.bayesian.rhat(stuck) > 1e6
