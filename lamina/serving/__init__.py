"""Serve a lamina model over HTTP with TensorFlow Serving's REST API (``lamina serve model.keras``).

Example:
>>> import lamina
>>> from lamina.serving import SIGNATURE_KEY, build_app
>>> model = lamina.Sequential([lamina.Input((3,), name="x"), lamina.layers.Dense(2)])
>>> app = build_app(model, model_name="demo")
>>> sorted(s.name for s in app[SIGNATURE_KEY].inputs)
['x']
"""

from lamina.serving.batching import Batcher  # noqa: F401
from lamina.serving.metrics import ServingMetrics  # noqa: F401
from lamina.serving.server import (  # noqa: F401
    METRICS_KEY, SIGNATURE_KEY, ModelPredictor, ServerThread, build_app, serve)  # noqa: F401
from lamina.serving.signature import RequestError, Signature  # noqa: F401
