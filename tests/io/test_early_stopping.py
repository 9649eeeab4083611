"""EarlyStopping on hand-built ChunkReports: the chunk where it stops follows from the sequence of values."""

import numpy as np
import pytest

import pinnlang as pl
from pinnlang.solve.hooks import ChunkReport, Hooks


def report(epoch, total, core=None, terms=None, metrics=None):
    total = np.asarray([total], np.float64)
    return ChunkReport(epoch, np.asarray([epoch - 1]), total, terms or {"pde": total}, metrics or {}, "train", core)


def run(callback, values, **kw):
    """Feed chunks until the callback stops; return the index of the stopping chunk (None if it never stops)."""
    hooks = Hooks(callbacks=[callback])
    for i, v in enumerate(values):
        if hooks.chunk(report(10 * (i + 1), v, **kw)):
            return i
    return None


def test_patience_counts_chunks_without_improvement():
    es = pl.io.EarlyStopping("total", patience=2)
    assert run(es, [5.0, 4.0, 3.0, 3.5, 3.2, 1.0]) == 4  # 3.0 at chunk 2, then two chunks not better
    assert es.best == 3.0 and es.best_epoch == 30 and es.stopped_epoch == 50


def test_min_delta_and_max_mode():
    es = pl.io.EarlyStopping("total", patience=2, min_delta=0.5)
    assert run(es, [5.0, 4.8, 4.6, 4.4]) == 2  # improvements of 0.2 are below min_delta
    es = pl.io.EarlyStopping("total", patience=1, mode="max")
    assert run(es, [0.1, 0.5, 0.9, 0.8]) == 3 and es.best == 0.9


def test_a_term_or_a_metric_by_name():
    es = pl.io.EarlyStopping("pde", patience=1)
    assert run(es, [3.0, 2.0, 2.5]) == 2
    es = pl.io.EarlyStopping("loss/pde", patience=1)
    hooks = Hooks(callbacks=[es])
    stops = [hooks.chunk(report(i + 1, 0.0, metrics={"loss/pde": v})) for i, v in enumerate([1.0, 0.5, 0.7])]
    assert stops == [False, False, True]


def test_a_validation_expression_evaluated_on_the_core():
    """Validation (c - 2)² as c moves 0, 1, 1.9, 1.8, 1.7: best at the third chunk, patience 2 stops at the fifth."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.5)
    x, _ = dom.variable("interior")
    c = pl.np.parameter((1,), name="c", init=0.0)
    crux = pl.core([(c * x).mse])
    es = pl.io.EarlyStopping(((c - 2.0) ** 2).sum, patience=2)
    hooks = Hooks(callbacks=[es])
    stopped = None
    for i, value in enumerate([0.0, 1.0, 1.9, 1.8, 1.7]):
        c.set_trainable(np.asarray([value], np.float32))
        if hooks.chunk(report(i + 1, 0.0, core=crux)):
            stopped = i
            break
    assert stopped == 4
    assert es.best == pytest.approx(0.01, rel=1e-4) and es.best_epoch == 3
    np.testing.assert_allclose([v for _, v in es.values], (np.array([0.0, 1.0, 1.9, 1.8, 1.7]) - 2) ** 2, rtol=1e-5)


def test_configuration_errors():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.5)
    x, _ = dom.variable("interior")
    with pytest.raises(pl.errors.ConfigurationError, match="Reduce it"):
        pl.io.EarlyStopping(x * 2)
    with pytest.raises(pl.errors.ConfigurationError, match="patience"):
        pl.io.EarlyStopping("total", patience=0)
    with pytest.raises(pl.errors.ConfigurationError, match="mode"):
        pl.io.EarlyStopping("total", mode="lowest")
    with pytest.raises(pl.errors.ConfigurationError, match="nothing named 'bc'"):
        pl.io.EarlyStopping("bc").value(report(1, 1.0))
