"""The progress bar (the only place pinnlang writes to the terminal)."""

from __future__ import annotations

import os
import sys


def progress_enabled(requested: bool | None) -> bool:
    """Show progress only on an interactive terminal outside CI, unless told otherwise."""
    if requested is not None:
        return bool(requested)
    return sys.stderr.isatty() and not os.environ.get("CI")


class Progress:
    """A tqdm bar over epochs with the loss terms as postfix (a no-op when disabled)."""

    def __init__(self, total: int, enabled: bool, desc: str = "solve"):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True)

    def update(self, steps: int, values: dict):
        if self.bar is not None:
            self.bar.update(steps)
            self.bar.set_postfix({k: f"{v:.2e}" for k, v in values.items()}, refresh=False)

    def close(self):
        if self.bar is not None:
            self.bar.close()
