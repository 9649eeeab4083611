"""The random streams of a solve: every key is a ``fold_in`` path from the core's (or the solve's) key.

One table, so that no two consumers draw from one path. ``key`` is the solve's base key, ``step`` the
global epoch; a stream number is folded in right after the step (or after the key, where noted).

=====================  ==  ==========================================================================
stream                 #   path and consumer
=====================  ==  ==========================================================================
RESAMPLE_STREAM        0   ``fold_in(fold_in(key, step), 0)``: redrawn collocation points
CHAIN_STREAM           1   ``fold_in(fold_in(key, step), 1)``, then chain ``k``, then group ``g``: kernels
PREDICTIVE_STREAM      2   ``fold_in(fold_in(core key, 2), call)``: ``crux.predictive`` noise draws
INIT_STREAM            3   ``fold_in(fold_in(key, step), 3)``: the chains' starts (jitter) at solve start
EVAL_STREAM            3   ``fold_in(fold_in(core key, 3), call)``: ``crux.eval``'s MC-dropout draws
DRAW_STREAM            4   ``fold_in(fold_in(key, epoch), 4)``: the draws of q after a VI solve
WARM_STREAM            5   ``fold_in(fold_in(key, epoch), 5)``: initialisers (pathfinder, Laplace, SVGD)
SUBSTEP_STREAM         6+s ``fold_in(fold_in(key, 6 + s), j)``: stage ``s``'s step ``j`` (then as a step)
MODEL_STREAM           7   ``fold_in(fold_in(key, step), 7)``, then chain ``k``: stochastic models' keys
GRAD_BATCH_STREAM      8   ``fold_in(key, 8)``, then point set, then data epoch: optimiser minibatches
LOSS_BATCH_STREAM      9   ``fold_in(fold_in(key, step), 9)``: the minibatch of an SG-MCMC chunk's loss
=====================  ==  ==========================================================================

``EVAL_STREAM`` and ``PREDICTIVE_STREAM`` start from the core's key, the others from the solve's; paths
of different lengths or bases never meet.
"""

RESAMPLE_STREAM = 0
CHAIN_STREAM = 1
PREDICTIVE_STREAM = 2
INIT_STREAM = 3
EVAL_STREAM = 3
DRAW_STREAM = 4
WARM_STREAM = 5
SUBSTEP_STREAM = 6
MODEL_STREAM = 7
GRAD_BATCH_STREAM = 8
LOSS_BATCH_STREAM = 9
BATCH_OFFSET = 10_000  # the minibatch key of density group g is fold_in(chain key, BATCH_OFFSET + g)
