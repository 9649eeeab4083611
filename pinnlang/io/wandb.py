"""A Weights & Biases tracker (optional extra ``wandb``); ``mode="offline"`` needs no network."""

from __future__ import annotations

import logging

from ._optional import require
from .posterior import is_array_valued, sampled_handles
from .trackers import report_metrics

log = logging.getLogger("pinnlang")


class WandbTracker:
    """Log a solve to W&B: the configuration, every chunk's metrics, and at the end the summary and figures.

    Per chunk it logs ``report.metrics`` (``loss/<term>``, ``loss/total``, ``steps_per_second``,
    ``lr/<name>``, ``posterior/<name>/...``) at ``step=report.epoch``. At the end the summary table
    goes to ``run.summary`` (``summary/<parameter>/<column>``) and a ``wandb.Table``, the loss
    history and posterior marginals figures are logged as images, and the run is finished.

    Args:
        project: the W&B project.
        mode: ``"offline"`` (default: files under ``dir``, synced later with ``wandb sync``),
            ``"online"`` or ``"disabled"``.
        name: the run's name.
        config: extra configuration merged over the core's.
        dir: where W&B writes its files.
        figures: log the final figures (needs matplotlib).
        **init_kwargs: further ``wandb.init`` arguments (``entity``, ``tags``, ``group``, ...).

    Raises:
        MissingDependencyError: wandb is not installed (``pip install pinnlang[wandb]``).
    """

    def __init__(self, project: str | None = None, *, mode: str = "offline", name: str | None = None,
                 config: dict | None = None, dir=None, figures: bool = True, **init_kwargs):
        self._wandb = require("wandb", "wandb", "WandbTracker")
        self.project, self.mode, self.name, self.dir = project, mode, name, dir
        self.extra_config = dict(config or {})
        self.figures = figures
        self.init_kwargs = init_kwargs
        self.run = None

    def start(self, core, config: dict):
        """``wandb.init`` with the core's configuration (a failure is a WARNING; later calls do nothing)."""
        try:
            self.run = self._wandb.init(project=self.project, mode=self.mode, name=self.name,
                                        config={**dict(config or {}), **self.extra_config},
                                        dir=None if self.dir is None else str(self.dir), **self.init_kwargs)
        except Exception as err:  # noqa: BLE001 - no network, bad credentials: the solve goes on
            log.warning("WandbTracker: wandb.init failed (%s: %s); nothing is logged to W&B for this solve",
                        type(err).__name__, err)
            self.run = None

    def log(self, report):
        """Log one chunk's metrics at ``step=report.epoch``."""
        if self.run is not None:
            self.run.log(report_metrics(report), step=int(report.epoch))

    def finish(self, core):
        """Summary table and figures, then ``run.finish()``."""
        if self.run is None:
            return
        try:
            if sampled_handles(core.handles):
                self._log_summary(core)
            if self.figures:
                self._log_figures(core)
        finally:
            self.run.finish()
            self.run = None

    def _log_summary(self, core):
        from .summary import summary

        table = summary(core, show=False).to_dict()
        flat = {f"summary/{p}/{c}": v for p, row in table["parameters"].items() for c, v in row.items()
                if c != "name" and v is not None}
        flat.update({f"summary/{m}/{c}": v for m, row in table["models"].items() for c, v in row.items()
                     if c not in ("name", "kind") and isinstance(v, (int, float))})
        self.run.summary.update(flat)
        rows = list(table["parameters"].values())
        if rows:
            columns = list(rows[0])
            self.run.log({"posterior_summary": self._wandb.Table(columns=columns,
                                                                 data=[[r[c] for c in columns] for r in rows])})

    def _log_figures(self, core):
        try:
            from .. import plot
        except ImportError as err:
            log.warning("WandbTracker: no figures (%s)", err)
            return
        images = {}
        if len(getattr(core, "history", ())):
            images["figures/loss"] = self._wandb.Image(plot.loss_history(core.history))
        if any(is_array_valued(h) for h in sampled_handles(core.handles)):
            images["figures/posterior"] = self._wandb.Image(plot.marginals(core))
        if images:
            self.run.log(images)
