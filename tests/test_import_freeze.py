"""``import pinnlang`` freezes the import's objects out of the cyclic collector in scripts only."""

import gc
import os
import subprocess
import sys
import textwrap

import pytest

from pinnlang import import_freeze

SCRIPT = textwrap.dedent("""
    import gc, weakref
    import pinnlang
    frozen = gc.get_freeze_count()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made after the import: still the collector's
    probe = weakref.ref(a)
    del a, b
    gc.collect()
    print(frozen, probe() is None)
""")


def run_script(*flags, **env):
    out = subprocess.run([sys.executable, *flags, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
                         check=True, env={**os.environ, **env}, stdin=subprocess.DEVNULL)
    frozen, collected = out.stdout.split()[-2:]
    return int(frozen), collected == "True"


def test_a_script_freezes_the_import_and_collects_what_comes_after():
    frozen, collected = run_script()
    assert frozen > 10_000  # jax alone brings hundreds of thousands of objects
    assert collected


@pytest.mark.parametrize("flags, env", [((), {"PINNLANG_GC_FREEZE": "0"}), (("-i",), {})],
                         ids=["turned-off", "interactive"])
def test_nothing_is_frozen_when_turned_off_or_interactive(flags, env):
    frozen, collected = run_script(*flags, **env)
    assert frozen == 0 and collected


def test_ipython_counts_as_interactive(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", object())
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
    assert not import_freeze.freeze_by_default() and not calls
    monkeypatch.delitem(sys.modules, "IPython")
    monkeypatch.delenv("PINNLANG_GC_FREEZE", raising=False)
    if not import_freeze.interactive():
        assert import_freeze.freeze_by_default() and calls == [1]
