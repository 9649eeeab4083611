"""Per-chunk callbacks: early stopping on a loss term or on a validation expression."""

from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import ConfigurationError
from ..trace import Node

log = logging.getLogger("pinnlang")


class EarlyStopping:
    """Stop a solve when a monitored value has not improved for ``patience`` chunks.

    Pass it as ``crux.solve(..., callbacks=[EarlyStopping(...)])``; it is called once per chunk
    (every ``print_rate`` steps) and returns ``True`` to stop.

    Args:
        monitor: what to watch. A loss term name (``"pde"``), ``"total"``, a key of
            ``report.metrics`` (``"loss/pde"``), or a scalar *validation expression* such as
            ``(net(x_val) - u_val).mse``, evaluated with ``report.core.eval`` at the end of each chunk
            (over posterior draws it gives ``(K, N)`` values; their mean is monitored). A loss term's
            value is its last one in the chunk.
        patience: chunks without improvement before stopping (>= 1).
        min_delta: an improvement must beat the best value by more than this.
        mode: ``"min"`` (losses, errors) or ``"max"`` (accuracies).
        domain: evaluate a validation expression on this domain.

    Attributes:
        best: the best value seen; ``best_epoch``: where; ``stopped_epoch``: where it stopped (or ``None``);
        values: ``[(epoch, value), ...]`` of every chunk.
    """

    def __init__(self, monitor="total", *, patience: int = 5, min_delta: float = 0.0, mode: str = "min",
                 domain=None):
        if mode not in ("min", "max"):
            raise ConfigurationError(f"EarlyStopping mode must be 'min' or 'max', got {mode!r}")
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
            raise ConfigurationError(f"EarlyStopping patience must be a positive integer (chunks), got {patience!r}")
        if min_delta < 0:
            raise ConfigurationError(f"EarlyStopping min_delta must be >= 0, got {min_delta}")
        if isinstance(monitor, Node) and monitor.points is not None:
            raise ConfigurationError(
                "EarlyStopping monitors a scalar; the validation expression lives on points (shape "
                f"{monitor.shape}). Reduce it, e.g. (net(x_val) - u_val).mse")
        if not isinstance(monitor, (str, Node)):
            raise ConfigurationError(f"EarlyStopping monitor must be a term name or an expression, got {monitor!r}")
        self.monitor, self.patience, self.min_delta, self.mode, self.domain = monitor, patience, min_delta, mode, domain
        self.reset()

    def reset(self):
        """Forget the best value (for a fresh run)."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.stopped_epoch = None
        self.wait = 0
        self.values: list = []

    def value(self, report) -> float:
        """The monitored value at the end of this chunk."""
        m = self.monitor
        if isinstance(m, Node):
            return float(np.mean(np.asarray(report.core.eval(m, domain=self.domain))))
        if m == "total":
            return float(np.asarray(report.total).reshape(-1)[-1])
        if m in report.terms:
            return float(np.asarray(report.terms[m]).reshape(-1)[-1])
        if m in report.metrics:
            return float(report.metrics[m])
        raise ConfigurationError(f"EarlyStopping: nothing named {m!r} in this solve; loss terms are "
                                 f"{sorted(report.terms)}, metrics {sorted(report.metrics)}")

    def __call__(self, report) -> bool:
        v = self.value(report)
        self.values.append((int(report.epoch), v))
        better = v < self.best - self.min_delta if self.mode == "min" else v > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = v, int(report.epoch), 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = int(report.epoch)
            log.info("EarlyStopping: %s did not improve on %.6g (epoch %s) for %d chunk(s); stopping at epoch %d",
                     self.monitor if isinstance(self.monitor, str) else "the validation expression", self.best,
                     self.best_epoch, self.patience, self.stopped_epoch)
            return True
        return False
