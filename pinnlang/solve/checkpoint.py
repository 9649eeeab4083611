"""Checkpoints: the solver state, the draws and the history as arrays in one ``.npz``, plus a JSON header.

No pickle: every entry is a plain array, and the header (configuration fingerprint, library version,
progress of the solve) is JSON stored as bytes. Files are written to a temporary name and renamed,
so an interrupted save never leaves a half-written checkpoint in place.
"""

from __future__ import annotations

import json
import os
import zipfile

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import CheckpointError, ConfigurationError
from .plan import Plan
from .history import Traces
from .posterior import DrawBuffer
from .run import RunRecord
from .state import member_positions

FORMAT = "pinnlang-checkpoint"
FORMAT_VERSION = 1


def describe(core) -> dict:
    """The problem as JSON-able data (what a checkpoint must match to be loaded)."""
    from .. import __version__
    from ..trace.groups import trainable_paths

    handles = []
    for h in core.handles.values():
        value = h.get_trainable()
        paths = trainable_paths(h.module) if hasattr(h, "module") else [""]
        leaves = [[p, list(np.shape(l)), str(l.dtype)] for p, l in zip(paths, jax.tree_util.tree_leaves(value))]
        handles.append({"name": h.name, "kind": type(h).__name__, "frozen": bool(h.frozen), "leaves": leaves})
    plan = Plan(core.handles, core._default_transforms)
    data = [[ps.tag, int(ps.num_points), int(ps.width)] for ps in core.loss.program.analysis.point_sets.values()]
    return {"library": "pinnlang", "version": __version__, "key": [int(x) for x in np.asarray(core.key).ravel()],
            "loss": {"names": list(core.loss.names), "weights": [float(w) for w in core.loss.weights]},
            "handles": handles, "groups": plan.describe(), "chains": plan.num_chains, "keep": plan.keep,
            "thin": plan.thin, "point_sets": data}


def _differences(saved, current, path="") -> list[str]:
    if isinstance(saved, dict) and isinstance(current, dict):
        out = []
        for k in sorted(set(saved) | set(current)):
            if k == "version":
                continue
            if k not in saved or k not in current:
                out.append(f"{path}/{k}: only in the {'checkpoint' if k in saved else 'current problem'}")
            else:
                out += _differences(saved[k], current[k], f"{path}/{k}")
        return out
    if isinstance(saved, list) and isinstance(current, list) and len(saved) == len(current):
        out = []
        for i, (a, b) in enumerate(zip(saved, current)):
            out += _differences(a, b, f"{path}[{i}]")
        return out
    return [] if saved == current else [f"{path}: checkpoint has {saved!r}, this problem has {current!r}"]


def _handle_differences(saved: list, current: list) -> list[str]:
    if len(saved) != len(current):
        return [f"the checkpoint has {len(saved)} models/parameters, this problem {len(current)}"]
    out = []
    for a, b in zip(saved, current):
        who = f"{b['kind'].lower()} {b['name']!r}"
        if a["name"] != b["name"] or a["kind"] != b["kind"]:
            out.append(f"{a['kind'].lower()} {a['name']!r} in the checkpoint is {who} here")
        elif a["frozen"] != b["frozen"]:
            out.append(f"{who} is {'frozen' if a['frozen'] else 'not frozen'} in the checkpoint and "
                       f"{'frozen' if b['frozen'] else 'not frozen'} here")
        elif len(a["leaves"]) != len(b["leaves"]):
            out.append(f"{who} has {len(a['leaves'])} leaves in the checkpoint, {len(b['leaves'])} here")
        else:
            for (pa, sa, da), (pb, sb, db) in zip(a["leaves"], b["leaves"]):
                if (pa, sa, da) != (pb, sb, db):
                    out.append(f"{who} leaf {pb or 'value'}: checkpoint shape {sa} {da}, this problem shape {sb} {db}")
                    break
    return out


def problem_differences(saved: dict, current: dict) -> list[str]:
    """Readable differences between two :func:`describe` results, the most basic first."""
    out = _handle_differences(saved.get("handles", []), current.get("handles", []))
    if saved.get("key") != current.get("key"):
        out.append(f"the random key differs (checkpoint {saved.get('key')}, here {current.get('key')}): use the same seed")
    rest_saved = {k: v for k, v in saved.items() if k not in ("handles", "key")}
    rest_current = {k: v for k, v in current.items() if k not in ("handles", "key")}
    return out + _differences(rest_saved, rest_current)


def save(core, path) -> None:
    """Write ``core``'s solver state, draws, history and progress to ``path`` (see the module docstring)."""
    if core._state is None:
        raise ConfigurationError("nothing to save yet: call solve(...) first")
    path = os.fspath(path)
    arrays = {}
    flat, _ = jax.tree_util.tree_flatten_with_path(core._state)
    paths = []
    for i, (p, leaf) in enumerate(flat):
        arrays[f"state/{i}"] = np.asarray(jax.device_get(leaf))
        paths.append(jax.tree_util.keystr(p))
    hist = core.history
    arrays["history/epochs"], arrays["history/total"], arrays["history/terms"] = hist.epochs, hist.total, hist.terms
    trace_names = sorted(hist.traces)
    for i, name in enumerate(trace_names):
        arrays[f"traces/{i}/epochs"], arrays[f"traces/{i}/values"] = hist.traces[name]
    buffer = core._buffer
    buf_header = None
    if buffer is not None:
        saved = buffer.state()
        for g, pos in enumerate(saved["positions"]):
            for j, leaf in enumerate(jax.tree_util.tree_leaves(pos)):
                arrays[f"draws/{g}/{j}"] = leaf
        for g, fields in saved["infos"].items():
            for f, v in fields.items():
                arrays[f"infos/{g}/{f}"] = v
        buf_header = {"n": saved["n"], "capacity": buffer.keep, "infos": {g: sorted(fs) for g, fs in saved["infos"].items()}}
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "problem": describe(core), "epoch": core.epoch,
              "state_paths": paths, "run": core._run.to_json() if core._run is not None else None,
              "history": {"segments": [[s.label, s.start, s.stop] for s in hist.segments],
                          "wall_time": hist.wall_time, "compile_time": hist.compile_time, "traces": trace_names},
              "buffer": buf_header}
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _read(path):
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(bytes(arrays.pop("__header__")).decode())
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path!r} is not a readable pinnlang checkpoint ({type(err).__name__}: {err}); it may be "
                              "truncated or corrupted: use an earlier checkpoint or rerun the solve") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path!r} is not a pinnlang checkpoint (format {header.get('format')!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path!r} has checkpoint format {header.get('format_version')}, this pinnlang reads "
                              f"{FORMAT_VERSION}")
    return header, arrays


def load(core, path) -> None:
    """Restore a :func:`save` file into ``core``, which must describe the same problem."""
    path = os.fspath(path)
    header, arrays = _read(path)
    diffs = problem_differences(header["problem"], describe(core))
    if diffs:
        shown = "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
        raise CheckpointError(f"{path!r} was written for a differently configured problem: {shown}. Build the same "
                              "losses, models and .optimizer/.bayesian/.mask configuration (and seed) before loading")
    run = RunRecord.from_json(header["run"]) if header["run"] is not None else None
    engine = core._engine_for(Plan(core.handles, core._default_transforms), run.resample_every if run else None,
                              (run.stages or ()) if run else ())
    values = {k: h.get_trainable() for k, h in core.handles.items()}
    data = core.loss.program.data(core.noise_key)
    template = jax.eval_shape(engine.start(frozenset()), values, core.solve_key, 0, data, {}, {})
    flat, treedef = jax.tree_util.tree_flatten_with_path(template)
    if len(flat) != len(header["state_paths"]):
        raise CheckpointError(f"{path!r} holds {len(header['state_paths'])} state arrays, this problem has {len(flat)}")
    leaves = []
    for i, (p, spec) in enumerate(flat):
        a = arrays.get(f"state/{i}")
        name = jax.tree_util.keystr(p)
        if a is None or tuple(a.shape) != tuple(spec.shape) or a.dtype != spec.dtype:
            got = "missing" if a is None else f"{a.dtype}{list(a.shape)}"
            raise CheckpointError(f"{path!r}: state entry {name} is {got}, this problem expects "
                                  f"{spec.dtype}{list(spec.shape)}")
        leaves.append(jnp.asarray(a))
    core._state = jax.tree_util.tree_unflatten(treedef, leaves)
    core._engine = engine
    core.epoch = int(header["epoch"])
    hist = core.history
    hist.epochs, hist.total = arrays["history/epochs"], arrays["history/total"]
    hist.terms = arrays["history/terms"]
    from .history import Segment

    hist.segments = [Segment(label, start, stop) for label, start, stop in header["history"]["segments"]]
    hist.wall_time, hist.compile_time = header["history"]["wall_time"], header["history"]["compile_time"]
    hist.traces = Traces({name: (arrays[f"traces/{i}/epochs"], arrays[f"traces/{i}/values"])
                          for i, name in enumerate(header["history"].get("traces", []))})
    core._run = run
    core._buffer = None
    if header["buffer"] is not None:
        keys = set(engine.posterior_keys)
        positions = [{k: v for k, v in pos.items() if k in keys}
                     for pos in member_positions(engine.plan, engine.backends, core._state.groups)]
        buffer = DrawBuffer(engine.plan, positions, header["buffer"]["capacity"])
        saved_positions = []
        for g, pos in enumerate(positions):
            pos_leaves, pos_def = jax.tree_util.tree_flatten(pos)
            saved_positions.append(jax.tree_util.tree_unflatten(
                pos_def, [arrays[f"draws/{g}/{j}"] for j in range(len(pos_leaves))]))
        infos = {g: {f: arrays[f"infos/{g}/{f}"] for f in fs} for g, fs in header["buffer"]["infos"].items()}
        buffer.restore({"positions": saved_positions, "infos": infos})
        core._buffer = buffer
    for h in core.handles.values():
        h._posterior = None
        h._mark_solved()
    core._write_back(core._buffer, final=True)
    core._snapshot = None
