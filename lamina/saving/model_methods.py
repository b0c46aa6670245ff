"""``SavingMixin``: the saving methods of ``Model`` (``save``, ``save_weights``, ``load_weights``...).

``Model`` lists it among its bases; every method forwards to ``lamina.saving.saving_api``.

Example:
>>> import os, tempfile, lamina
>>> from lamina.saving.model_methods import SavingMixin
>>> model = lamina.Sequential([lamina.Input((3,)), lamina.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "w.weights.h5")
>>> SavingMixin.save_weights(model, path)  # once Model has the mixin: model.save_weights(path)
>>> SavingMixin.load_weights(model, path)
"""


class SavingMixin:
    """Adds Keras's saving methods to a model class."""

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save the whole model to ``filepath`` (``.keras``, or legacy ``.h5``); see ``lamina.saving.save_model``."""
        from lamina.saving.saving_api import save_model

        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Save the weights to ``filepath`` (``.weights.h5``, or ``.weights.json`` shards with ``max_shard_size``
        in GB); see ``lamina.saving.save_weights``."""
        from lamina.saving.saving_api import save_weights

        save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights from a ``.weights.h5``, ``.keras`` or Keras 2 ``.h5`` file; see ``lamina.saving.load_weights``."""
        from lamina.saving.saving_api import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def get_compile_config(self):
        """Return the settings ``compile`` was called with (None before ``compile``)."""
        from lamina.saving.compile_config import get_compile_config

        return get_compile_config(self)

    def compile_from_config(self, config):
        """Compile the model with a config from ``get_compile_config``."""
        from lamina.saving.compile_config import compile_from_config

        compile_from_config(self, config)
