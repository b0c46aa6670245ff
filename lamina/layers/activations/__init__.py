"""Activation layers with arguments (``layers.Activation`` lives in ``layers.core``)."""

from lamina.layers.activations.activation_layers import ELU, PReLU, LeakyReLU, ReLU, Softmax  # noqa: F401
