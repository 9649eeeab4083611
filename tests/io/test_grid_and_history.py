"""``pl.io.eval_on_grid`` against closed forms (point and sampled expressions); History export round trips."""

import csv

import numpy as np
import pytest

import pinnlang as pl


def test_grid_values_equal_the_closed_form(trained_core):
    crux = trained_core["crux"]
    gx, gy = np.linspace(0.0, 1.0, 7), np.linspace(-1.0, 2.0, 5)
    g = pl.io.eval_on_grid(crux, lambda x, y: pl.np.sin(x) * y, gx, gy)
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    assert g.values.shape == (7, 5) and not g.sampled
    np.testing.assert_allclose(g.values, np.sin(X) * Y, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(g.mesh[0], X)
    v = pl.io.eval_on_grid(crux, lambda x, y: pl.np.concatenate([x, y]), gx, gy)
    assert v.values.shape == (7, 5, 2)
    np.testing.assert_allclose(v.values[..., 1], Y, rtol=1e-6)


def test_grid_of_a_sampled_expression_has_draw_axes(nuts_problem):
    crux, theta = nuts_problem["crux"], nuts_problem["theta"]
    gx = np.linspace(0.0, 1.0, 11)
    g = pl.io.eval_on_grid(crux, lambda x: theta[0:1] * x, gx)
    assert g.sampled and g.values.shape == (2, 150, 11)
    a = np.asarray(theta.posterior_samples, np.float64)[..., 0]
    np.testing.assert_allclose(g.values, a[..., None] * gx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g.mean(), a.mean() * gx, rtol=1e-5, atol=1e-6)
    lo, hi = g.quantile([0.05, 0.95])
    np.testing.assert_allclose(hi, np.quantile(a.ravel()[:, None] * gx, 0.95, axis=0), rtol=1e-5, atol=1e-6)


def test_grid_errors(trained_core):
    with pytest.raises(pl.errors.ShapeError, match="1-D"):
        pl.io.eval_on_grid(trained_core["crux"], lambda x: x, np.zeros((2, 2)))
    with pytest.raises(pl.errors.ShapeError, match="over the grid points"):
        pl.io.eval_on_grid(trained_core["crux"], lambda x: trained_core["a"], np.linspace(0, 1, 3))


def test_history_dict_and_csv_round_trip(trained_core, tmp_path):
    h = trained_core["crux"].history
    d = pl.io.history_to_dict(h)
    assert list(d) == ["epoch", "total", "fit", "prior"]
    np.testing.assert_array_equal(d["epoch"], h.epochs)
    np.testing.assert_array_equal(d["prior"], h.terms[:, 1])
    assert len(d["total"]) == 60
    path = pl.io.history_to_csv(h, tmp_path / "sub" / "history.csv")
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "total", "fit", "prior"]
    back = np.asarray(rows[1:], np.float64)
    np.testing.assert_array_equal(back[:, 0], h.epochs)
    np.testing.assert_array_equal(back[:, 1:], np.column_stack([h.total, h.terms]).astype(np.float64))  # exact


def test_history_names_that_clash_with_columns_are_kept():
    from pinnlang.solve.history import History

    h = History(["total", "pde"])
    h.append([0, 1], [1.0, 2.0], [[0.5, 0.5], [1.0, 1.0]])
    assert list(pl.io.history_to_dict(h)) == ["epoch", "total", "term:total", "pde"]
