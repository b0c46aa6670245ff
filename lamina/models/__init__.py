"""``lamina.models``: Model, Sequential, and (with saving) load_model/save_model."""

from lamina.models.functional import Functional  # noqa: F401
from lamina.models.model import Model  # noqa: F401
from lamina.models.sequential import Sequential  # noqa: F401
from lamina.models.cloning import clone_model, model_from_json  # noqa: F401,E402
from lamina.saving.saving_api import load_model, save_model  # noqa: F401,E402
