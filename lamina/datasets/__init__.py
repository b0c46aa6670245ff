"""``lamina.datasets``: the tutorial datasets, with Keras's ``load_data`` signatures."""

from lamina.datasets import (  # noqa: F401
    boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters,
)
