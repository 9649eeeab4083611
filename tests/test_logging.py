"""Issue 7 item 6: warnings of the ``pinnlang`` logger reach stderr by default; INFO is one line away."""

import logging
import subprocess
import sys
import textwrap

import jax

import pinnlang as pl
from pinnlang.logs import DEFAULT_HANDLER

SCRIPT = textwrap.dedent("""
    import logging, sys
    import pinnlang as pl
    log = logging.getLogger("pinnlang")
    log.warning("first warning")
    log.info("hidden info")
    log.setLevel(logging.INFO)  # the one line of the guide
    log.info("visible info")
    logging.basicConfig(stream=sys.stdout, format="ROOT %(levelname)s %(message)s")
    log.warning("configured warning")  # now the application's handler prints it, the default does not
    log.removeHandler(pl.logs.DEFAULT_HANDLER)
    logging.getLogger().handlers.clear()
    log.warning("silenced warning")  # no handler anywhere: Python's lastResort prints it
""")


def test_defaults_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=True)
    err = out.stderr.splitlines()
    assert "pinnlang WARNING: first warning" in err
    assert "pinnlang INFO: visible info" in err
    assert not any("hidden info" in line for line in err)
    assert out.stdout.splitlines() == ["ROOT WARNING configured warning"]  # once, through the root handler
    assert not any("configured warning" in line for line in err)
    assert "silenced warning" in err  # lastResort's plain format


def test_no_null_handler_and_one_default_handler():
    handlers = logging.getLogger("pinnlang").handlers
    assert not any(isinstance(h, logging.NullHandler) for h in handlers)
    assert handlers.count(DEFAULT_HANDLER) == 1
    assert pl.logs.install_default_handler() is DEFAULT_HANDLER  # idempotent


def test_caplog_captures_and_stderr_stays_clean(caplog, capsys):
    with caplog.at_level(logging.WARNING):
        logging.getLogger("pinnlang").warning("seen by caplog")
    assert "seen by caplog" in caplog.text
    assert "seen by caplog" not in capsys.readouterr().err  # the default handler steps aside


def test_a_real_library_warning_is_captured(caplog):
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.25)
    x, _ = dom.variable("interior")
    a = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=2, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    b = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=2, num_layers=1, key=jax.random.PRNGKey(1)), name="u")
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        pl.core([(a(x) - b(x)).mse])
    assert any(r.levelno == logging.WARNING and "share the name 'u'" in r.getMessage() for r in caplog.records)
