"""``lamina.datasets``: the tutorial datasets, with Keras's ``load_data`` signatures."""

from lamina.datasets import fashion_mnist, mnist  # noqa: F401
