"""Results people can read, keep and share: ArviZ export, summary tables, history export, trackers.

``pl.io.to_arviz(crux)``, ``pl.io.summary(crux)``, ``pl.io.sampling_cost(crux)`` (gradient evaluations and ESS
per 1000 of them), ``pl.io.history_to_dict`` / ``history_to_csv``,
``pl.io.eval_on_grid`` (an expression on a tensor grid in one call), the trackers
``LocalTracker`` / ``WandbTracker`` and the ``EarlyStopping`` callback for
``crux.solve(..., trackers=[...], callbacks=[...])``, and ``posterior_metrics`` (the per-chunk
posterior statistics the trackers log).
"""

from ._optional import MissingDependencyError
from .arviz import to_arviz
from .callbacks import EarlyStopping
from .cost import SamplingCost, sampling_cost
from .grid import Grid, eval_on_grid
from .history import history_to_csv, history_to_dict
from .summary import Summary, summary
from .trackers import LocalTracker, posterior_metrics
from .wandb import WandbTracker

__all__ = [
    "EarlyStopping", "Grid", "LocalTracker", "MissingDependencyError", "SamplingCost", "Summary", "WandbTracker",
    "eval_on_grid", "history_to_csv", "history_to_dict", "posterior_metrics", "sampling_cost", "summary", "to_arviz",
]
