"""Figures of results (``pl.plot``; matplotlib, the optional extra ``plot``).

Every function returns a ``matplotlib`` figure (not registered with pyplot) and writes it when
given ``path=``. Fields: :func:`loss_history`, :func:`field_1d` (posterior mean and credible band),
:func:`predictive_band` (fitted observations of an inverse problem), :func:`fields_2d` (prediction /
reference / error). Posteriors, drawn by ArviZ: :func:`marginals`, :func:`pair`, :func:`trace`.
Classifiers: :func:`reliability`. Helpers: :func:`figure`, :func:`save`. To get values on a tensor
grid, see ``pl.io.eval_on_grid``.
"""

from ._base import figure, save
from .classification import reliability
from .fields import field_1d, fields_2d, loss_history, predictive_band
from .posterior import marginals, pair, trace

__all__ = ["field_1d", "fields_2d", "figure", "loss_history", "marginals", "pair", "predictive_band", "reliability",
           "save", "trace"]
