"""Plain JAX + optax PINN training loops (no pinnlang): the speed baseline.

Run ``python -m benchmarks.handwritten.run`` to print steps/s of each problem and loop variant.
"""
