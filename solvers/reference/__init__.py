"""Independent classical reference solutions (numpy only; no pinnlang import).

Each module gives closed forms or a classical numerical solver that tests and
solver scripts compare PINN results against:

- :mod:`solvers.reference.burgers`: exact Cole–Hopf solution of viscous Burgers.
- :mod:`solvers.reference.heat`: closed form and Crank–Nicolson for the 1-D heat equation.
- :mod:`solvers.reference.poisson`: closed forms and a 5-point finite-difference Poisson solver.
- :mod:`solvers.reference.nonlinear_poisson`: source term and noisy data of the B-PINN benchmark.
"""
