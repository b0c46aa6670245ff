"""Write what Keras 3 saves for the models of keras_layout_models.py (run with Keras 3 installed).

    KERAS_BACKEND=jax python tests/fixtures_keras_reads_lamina/make_fixtures.py [out_folder]

For each builder in ``models.BUILDERS`` the model is built with Keras, trained for one step on the
builder's batch and saved as ``.keras``; from the archive this writes ``<name>.config.json`` (its
``config.json``: the layout Keras expects) and ``<name>.weights.json`` (every dataset of
``model.weights.h5`` as ``[path, shape, dtype]``: the layout of the weights and optimizer state) into
``out_folder`` (default: this folder). tests/test_saving_keras_layout.py saves the same models with lamina
and compares its files with these.

It also writes Keras files for lamina to read (the other direction): ``mixed_precision.keras`` (its
optimizer is a LossScaleOptimizer), ``nested_called_twice.keras`` and
``subclassed_attributes.weights.h5`` (layers filed under ``layers/...`` and attribute names), with
``keras_outputs.npz`` holding each one's input (``<name>_x``) and Keras's predictions (``<name>_y<i>``).
Produced with Keras 3.15.1 on the JAX backend.
"""

import io
import json
import os
import sys
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_layout_models as models  # noqa: E402


def weights_manifest(archive):
    with zipfile.ZipFile(archive) as zf:
        data = zf.read("model.weights.h5")
    out = []
    with h5py.File(io.BytesIO(data), "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out.append([name, list(obj.shape), str(obj.dtype)])
        f.visititems(visit)
    return sorted(out)


def keras_files(folder):
    arrays = {}
    for build, suffix in ((models.mixed_precision, ".keras"), (models.nested_called_twice, ".keras"),
                          (models.subclassed_attributes, ".weights.h5")):
        keras.utils.set_random_seed(1)
        model, x, y = build(keras)
        model.fit(x, y, epochs=2, batch_size=2, verbose=0)
        name = build.__name__
        if suffix == ".keras":
            model.save(os.path.join(folder, name + suffix))
        else:
            model.save_weights(os.path.join(folder, name + suffix))
        outputs = model.predict(x, verbose=0)
        arrays[f"{name}_x"] = x
        for i, out in enumerate(outputs if isinstance(outputs, list) else [outputs]):
            arrays[f"{name}_y{i}"] = out
    np.savez(os.path.join(folder, "keras_outputs.npz"), **arrays)


def main(folder):
    keras_files(folder)
    for build in models.BUILDERS:
        keras.utils.set_random_seed(0)
        model, x, y = build(keras)
        model.fit(x, y, epochs=1, batch_size=len(y[0] if isinstance(y, list) else y), verbose=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.keras")
            model.save(path)
            with zipfile.ZipFile(path) as zf:
                config = json.loads(zf.read("config.json"))
            manifest = weights_manifest(path)
        with open(os.path.join(folder, f"{build.__name__}.config.json"), "w") as f:
            json.dump(config, f, indent=1, sort_keys=True)
        with open(os.path.join(folder, f"{build.__name__}.weights.json"), "w") as f:
            json.dump(manifest, f, indent=0)
        print("wrote", build.__name__)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
