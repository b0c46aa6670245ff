"""Regularization layers: spatial/Gaussian/alpha dropout, Gaussian noise, activity regularization."""

from lamina.layers.regularization.noise import (  # noqa: F401
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
