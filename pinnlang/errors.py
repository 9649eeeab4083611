"""Exceptions raised by pinnlang.

Every error the library raises on bad input derives from :class:`PinnlangError`
(itself a ``ValueError``) and says what was wrong and what to do instead.
"""


class PinnlangError(ValueError):
    """Base class of all pinnlang errors."""


class ShapeError(PinnlangError):
    """Operands whose shapes do not fit (broadcasting, model input width, ...)."""


class ConfigurationError(PinnlangError):
    """An invalid or incompatible configuration (losses, optimisers, solve options)."""


class TagError(PinnlangError):
    """A point-set tag the domain does not define."""


class PointSetError(PinnlangError):
    """Expressions over different point sets combined pointwise."""


class DataError(PinnlangError):
    """A data array, point set or initial value that holds NaN or inf."""


class ExpressionTypeError(PinnlangError, TypeError):
    """A value or a function that pinnlang expressions do not support (also a ``TypeError``)."""


class NonFiniteLossError(PinnlangError, FloatingPointError):
    """A loss term became NaN or infinite during a solve.

    Attributes:
        epoch: the epoch whose loss was not finite.
        terms: the names of the non-finite terms.
    """

    def __init__(self, message: str, *, epoch: int | None = None, terms=()):
        super().__init__(message)
        self.epoch = epoch
        self.terms = list(terms)


class CheckpointError(PinnlangError):
    """A checkpoint file that cannot be read, or that belongs to a differently configured problem."""
