"""``lamina.datasets``: the tutorial datasets, with Keras's ``load_data`` signatures."""

from lamina.datasets import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters  # noqa: F401
