"""Which point sets may be redrawn during a solve (``solve(resample_every=...)``).

Resampling replaces the coordinates of a point set inside the compiled loop. A data array with one
row per point of that set (measurements ``y_i`` at ``x_i``), or a fixed noise realisation drawn per
point, does not move with the points: after the first redraw every datum would be paired with
another point and the residual would be silently wrong. :func:`check_resampling` refuses that
before the solve starts.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from .program import GraphAnalysis


def _describe_constant(node) -> str:
    label = f" {node.label!r}" if getattr(node, "label", None) else ""
    return f"the data array{label} of shape {tuple(node.shape)}"


def check_resampling(analysis: GraphAnalysis, point_keys) -> None:
    """Raise when a point set to be resampled carries per-point data arrays or per-point noise.

    Args:
        analysis: the :class:`~pinnlang.compile.program.GraphAnalysis` of the loss terms.
        point_keys: keys (``analysis.point_key(points)``) of the point sets the solve would redraw.

    Raises:
        ConfigurationError: naming each such point set and its arrays, and saying what to do instead.
    """
    keys = set(point_keys)
    found: dict[str, list[str]] = {}
    for data_key, pk in analysis.constant_points.items():
        if pk in keys:
            found.setdefault(pk, []).append(_describe_constant(analysis.constant_nodes[data_key]))
    for noise in analysis.noises:
        if noise.points is not None and analysis.point_key(noise.points) in keys:
            found.setdefault(analysis.point_key(noise.points), []).append(
                f"a pl.noise.gaussian(std={noise.std:g}) realisation drawn once per point")
    if not found:
        return
    parts = []
    for pk, what in found.items():
        ps = analysis.point_sets.get(pk)
        parts.append(f"{ps if ps is not None else pk}: {', '.join(what)}")
    tag = next(iter(analysis.point_sets[pk].tag for pk in found if pk in analysis.point_sets), "tag")
    raise ConfigurationError(
        "resample_every would redraw point sets that carry per-point data, which does not move with the points "
        "(every datum would be paired with another point after the first redraw): " + "; ".join(parts) + ". "
        "Either keep that point set fixed (build it with sampler='grid' or pl.domain.from_array, or freeze its "
        f"current draw with dom.context[{tag!r}] = dom.context[{tag!r}].copy(): a replaced tag is never "
        "resampled), or compute the data inside the expression from the variable (e.g. pl.np.sin(pi * x) instead "
        "of an array of its values) so it follows the points."
    )


__all__ = ["check_resampling"]
