"""Every pl.plot function writes a non-empty PNG (the figures were also looked at by eye when written)."""

import sys

import numpy as np
import pytest

import pinnlang as pl
from pinnlang.solve.history import History

pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_bytes=4000):
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > min_bytes, (path, len(data))


@pytest.fixture(scope="module")
def draws():
    """Fake posterior: 2 chains x 100 draws of (a, b) and of a 1-D field over 50 points."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 50)
    a = rng.normal(1.0, 0.1, size=(2, 100))
    b = 0.5 * a + rng.normal(0.0, 0.05, size=(2, 100))
    field = a[..., None] * np.sin(np.pi * x) + b[..., None] * x  # (2, 100, 50)
    return dict(x=x, a=a, b=b, field=field)


def test_loss_history(tmp_path):
    h = History(["pde", "bc"])
    e = np.arange(200)
    h.append(e, np.exp(-e / 50) + 1e-3, np.stack([np.exp(-e / 40), np.exp(-e / 80)], 1))
    pl.plot.loss_history(h, path=tmp_path / "loss.png")
    assert_png(tmp_path / "loss.png")
    fig = pl.plot.loss_history(h)
    assert fig.axes[0].get_yscale() == "log"
    h2 = History(["nll"])
    h2.append(e, -1.0 - e / 100, (-1.0 - e / 100)[:, None])  # a negative NLL: symlog
    assert pl.plot.loss_history(h2).axes[0].get_yscale() == "symlog"


def test_field_1d_band_and_point_curve(tmp_path, draws):
    x = draws["x"]
    pl.plot.field_1d(x, draws["field"], reference=np.sin(np.pi * x), observed=(x[::5], draws["field"][0, 0, ::5]),
                     path=tmp_path / "band.png")
    assert_png(tmp_path / "band.png")
    pl.plot.field_1d(x[:, None], np.sin(np.pi * x)[:, None], path=tmp_path / "curve.png")
    assert_png(tmp_path / "curve.png")
    labels = lambda fig: [t.get_text() for t in fig.axes[0].get_legend().get_texts()]  # noqa: E731
    assert "90 % credible band" in labels(pl.plot.field_1d(x, draws["field"]))
    assert "95 % predictive band" in labels(pl.plot.field_1d(x, draws["field"], level=0.95,
                                                             band_label="95 % predictive band"))


def test_predictive_band(tmp_path, draws):
    x = draws["x"]
    obs = draws["field"].mean((0, 1)) + np.random.default_rng(1).normal(0, 0.1, size=x.size)
    fig = pl.plot.predictive_band(x, draws["field"], obs, noise_std=0.1, path=tmp_path / "pred.png")
    assert_png(tmp_path / "pred.png")
    assert "inside the predictive band" in fig.axes[0].get_title()


def test_fields_2d(tmp_path):
    g = np.linspace(0, 1, 20)
    X, Y = np.meshgrid(g, g, indexing="ij")
    fig = pl.plot.fields_2d(X, Y, np.sin(X) * Y, np.sin(X) * Y * 1.01, path=tmp_path / "f.png")
    assert_png(tmp_path / "f.png")
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["prediction", "reference", "|error|"]
    pl.plot.fields_2d(X, Y, np.stack([X, Y]), path=tmp_path / "mean.png")  # draws: their mean
    assert_png(tmp_path / "mean.png")


def test_posterior_marginals_pair_and_trace(tmp_path, draws):
    post = {"a": draws["a"], "b": draws["b"]}
    pl.plot.marginals(post, truth={"a": 1.0}, exact={"a": (1.0, 0.1)}, path=tmp_path / "m.png")
    pl.plot.pair(post, path=tmp_path / "p.png")
    pl.plot.trace(post, path=tmp_path / "t.png")
    for f in ("m.png", "p.png", "t.png"):
        assert_png(tmp_path / f)
    fig = pl.plot.marginals({"a": draws["a"]})
    bars = fig.axes[0].patches
    assert sum(b.get_height() * b.get_width() for b in bars) == pytest.approx(1.0, rel=1e-6)  # a density


def test_posterior_plots_from_a_core(tmp_path, nuts_like):
    pl.plot.marginals(nuts_like, path=tmp_path / "m.png")
    pl.plot.pair(nuts_like, path=tmp_path / "p.png")
    assert_png(tmp_path / "m.png") and assert_png(tmp_path / "p.png")


@pytest.fixture
def nuts_like():
    """A core-like object: one sampled vector parameter with divergence diagnostics."""
    import types

    p = pl.np.parameter((2,), name="theta")
    rng = np.random.default_rng(2)
    p.posterior_samples = rng.normal(size=(2, 80, 2))
    p.posterior_diagnostics = {"is_divergent": rng.uniform(size=(2, 80)) < 0.05}
    return types.SimpleNamespace(handles={"theta#0": p})


def test_reliability(tmp_path):
    rng = np.random.default_rng(3)
    probs = rng.dirichlet([1, 1, 1], size=400)
    labels = np.array([rng.choice(3, p=q) for q in probs])
    fig = pl.plot.reliability(probs, labels, path=tmp_path / "r.png")
    assert_png(tmp_path / "r.png")
    ece = pl.metrics.expected_calibration_error(probs, labels, 10)
    assert f"ECE = {ece:.3f}" in fig.axes[0].get_title()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(pl.io.MissingDependencyError, match=r"pip install pinnlang\[plot\]"):
        pl.plot.figure()
