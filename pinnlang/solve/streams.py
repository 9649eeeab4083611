"""The random streams of a solve: every key is a ``fold_in`` path from the core's (or the solve's) key.

One table, so that no two consumers draw from one path. ``key`` is the solve's base key, ``step`` the
global epoch (below ``2**31``). Two families of paths:

* *step paths* start ``fold_in(key, step)``, then a stream number: keys drawn once at a step;
* *root paths* start ``fold_in(key, ROOT + stream)`` (``ROOT = 2**31``: never a step), then the chain,
  the group, ..., and the step **last**: the keys of every step. A step's kernel key is then one hash of
  a base computed once per block of steps, not four (about 0.05 us a hash on a CPU, against a 3 us VI
  step).

=====================  ==========  ==========================================================================
stream                 #           path and consumer
=====================  ==========  ==========================================================================
RESAMPLE_STREAM        0           ``fold_in(fold_in(key, step), 0)``: redrawn collocation points
CHAIN_STREAM           ROOT + 1    ``fold_in(key, ROOT + 1)``, then chain ``k``, then group ``g``, then the
                                   step: kernels (the group's minibatch: group ``BATCH_OFFSET + g``)
PREDICTIVE_STREAM      2           ``fold_in(fold_in(core key, 2), call)``: ``crux.predictive`` noise draws
INIT_STREAM            3           ``fold_in(fold_in(key, step), 3)``: the chains' starts (jitter) at solve start
EVAL_STREAM            3           ``fold_in(fold_in(core key, 3), call)``: ``crux.eval``'s MC-dropout draws
DRAW_STREAM            4           ``fold_in(fold_in(key, epoch), 4)``: the draws of q after a VI solve
WARM_STREAM            5           ``fold_in(fold_in(key, epoch), 5)``: initialisers (pathfinder, Laplace, SVGD)
SUBSTEP_STREAM         ROOT+64+s   ``fold_in(fold_in(key, ROOT + 64 + s), j)``: stage ``s``'s step ``j``, whose
                                   keys then follow this table from that key
MODEL_STREAM           ROOT + 7    ``fold_in(key, ROOT + 7)``, then chain ``k``, then the step: stochastic
                                   models' keys
GRAD_BATCH_STREAM      ROOT + 8    ``fold_in(key, ROOT + 8)``, then point set, then data epoch: optimiser
                                   minibatches
LOSS_BATCH_STREAM      9           ``fold_in(fold_in(key, step), 9)``: the minibatch of an SG-MCMC chunk's loss
=====================  ==========  ==========================================================================

``EVAL_STREAM`` and ``PREDICTIVE_STREAM`` start from the core's key, the others from the solve's; paths
of different bases, or of the two families, never meet.
"""

ROOT = 2**31
RESAMPLE_STREAM = 0
CHAIN_STREAM = ROOT + 1
PREDICTIVE_STREAM = 2
INIT_STREAM = 3
EVAL_STREAM = 3
DRAW_STREAM = 4
WARM_STREAM = 5
SUBSTEP_STREAM = ROOT + 64
MODEL_STREAM = ROOT + 7
GRAD_BATCH_STREAM = ROOT + 8
LOSS_BATCH_STREAM = 9
BATCH_OFFSET = 10_000  # the minibatch key of density group g comes from group BATCH_OFFSET + g of the chain
