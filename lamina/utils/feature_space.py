"""``FeatureSpace``: preprocess and encode structured (tabular) data with one object, as Keras's.

It is made of lamina's preprocessing layers, which also build the symbolic graph from ``get_inputs()`` to
``get_encoded_features()``: a model on it takes the raw columns (its string layers run on the host, see
``lamina/layers/preprocessing/_string_inputs.py``). The data it takes in: ``_feature_space_data.py``.
"""

import numpy as np

from lamina import backend, ops
from lamina.backend.common.keras_tensor import KerasTensor
from lamina.layers.layer import Layer
from lamina.saving.serialization import deserialize_object, serialize_object
from lamina.utils import _feature_space_data as _data
from lamina.utils.naming import uniquify

_FEATURE_MODES = ("int", "one_hot", "float")
_CROSS_MODES = ("int", "one_hot")
_SHORTHANDS = ("float", "float_normalized", "float_rescaled", "float_discretized", "integer_categorical",
               "string_categorical", "integer_hashed", "string_hashed")
_WHO = _data.WHO


def _layers():
    from lamina import layers

    return layers


def _check_mode(who, mode, allowed):
    if mode not in allowed:
        raise ValueError(f"{who}: output_mode must be one of {list(allowed)}, but received output_mode={mode!r}.")
    return mode


def _positive_int(who, arg, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who}: {arg} must be a positive int, but received {arg}={value!r}.")
    return int(value)


class Feature:
    """One feature of a ``FeatureSpace``: the dtype of its raw values, the layer that preprocesses them and
    how the result is encoded (``"int"``: as is, ``"one_hot"``: a 0/1 vector over the preprocessor's
    categories, ``"float"``: as is, a float feature). Made by ``FeatureSpace.feature`` and the other
    ``FeatureSpace`` constructors."""

    def __init__(self, dtype, preprocessor, output_mode):
        who = "FeatureSpace.feature"
        _check_mode(who, output_mode, _FEATURE_MODES)
        if not isinstance(dtype, str):
            raise TypeError(f"{who}: dtype must be a dtype name such as 'float32', 'int32' or 'string', but "
                            f"received dtype={dtype!r}.")
        if isinstance(preprocessor, dict):
            preprocessor = deserialize_object(preprocessor)
        if not isinstance(preprocessor, Layer):
            raise TypeError(f"{who}: preprocessor must be a lamina layer (e.g. lamina.layers.StringLookup()), but "
                            f"received {type(preprocessor).__name__}.")
        self.dtype = dtype
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        preprocessor = serialize_object(self.preprocessor)
        preprocessor.pop("build_config", None)  # the FeatureSpace's build config builds it
        return {"dtype": self.dtype, "preprocessor": preprocessor, "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Cross:
    """A crossing of features of a ``FeatureSpace`` (hashed into ``crossing_dim`` bins), made by
    ``FeatureSpace.cross``. Its name is the feature names joined by ``"_X_"``."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        who = "FeatureSpace.cross"
        _check_mode(who, output_mode, _CROSS_MODES)
        if isinstance(feature_names, str) or not isinstance(feature_names, (list, tuple)) or \
                len(feature_names) < 2 or not all(isinstance(n, str) for n in feature_names):
            raise ValueError(f"{who}: feature_names must be a tuple of at least two feature names, but received "
                             f"feature_names={feature_names!r}.")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = _positive_int(who, "crossing_dim", crossing_dim)
        self.output_mode = output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": list(self.feature_names), "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _deserialize_spec(config, cls):
    """A ``Feature``/``Cross`` from its config (lamina's or Keras's: class name ``Feature``/``Cross``)."""
    if isinstance(config, dict) and config.get("class_name") == cls.__name__:
        return cls.from_config(dict(config.get("config") or {}))
    return deserialize_object(config)


def _dtype(x):
    return x.dtype if isinstance(x, KerasTensor) else backend.dtype_name(x)


class FeatureSpace(Layer):
    """One-stop preprocessing and encoding of structured (tabular) data, as Keras's ``FeatureSpace``.

    Args:
        features: a dict mapping each feature name to its type: a ``FeatureSpace.<kind>(...)`` object or
            the name of a kind (with its default arguments): ``"float"``, ``"float_normalized"``,
            ``"float_rescaled"``, ``"float_discretized"``, ``"integer_categorical"``,
            ``"string_categorical"``, ``"integer_hashed"``, ``"string_hashed"``.
        output_mode: ``"concat"`` (one float vector per sample: the encoded features in sorted name
            order, then the crosses in sorted name order) or ``"dict"`` (a dict of encoded features).
        crosses: features to cross (hash together): ``FeatureSpace.cross(...)`` objects or tuples of
            feature names (crossed into ``crossing_dim`` bins, one-hot encoded).
        crossing_dim: the default number of bins of a cross given as a tuple (32).
        hashing_dim: the number of bins of ``"integer_hashed"``/``"string_hashed"`` shorthands (32).
        num_discretization_bins: the number of bins of the ``"float_discretized"`` shorthand (32).

    Feature kinds (``name`` names the preprocessing layer ``"<name>_preprocessor"``; a shorthand uses
    the feature's name):

    * ``float(name=None)``: the values as they are;
    * ``float_rescaled(scale=1.0, offset=0.0, name=None)``: ``x * scale + offset`` (``Rescaling``);
    * ``float_normalized(name=None)``: ``(x - mean) / std`` with ``adapt``'s statistics (``Normalization``);
    * ``float_discretized(num_bins, bin_boundaries=None, output_mode="one_hot", name=None)``: the bin of
      each value (``Discretization``; quantile bins from ``adapt`` unless ``bin_boundaries`` are given);
    * ``integer_categorical(max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None)`` and
      ``string_categorical(...)``: the index in a vocabulary made by ``adapt`` (``IntegerLookup``,
      ``StringLookup``);
    * ``integer_hashed(num_bins, output_mode="one_hot", name=None)`` and ``string_hashed(...)``: a hash
      bin (``Hashing``; lamina's stable hash, so the bins differ from Keras's FarmHash bins);
    * ``feature(dtype, preprocessor, output_mode)``: any preprocessing layer (e.g. ``TextVectorization``);
    * ``cross(feature_names, crossing_dim, output_mode="one_hot")``: a ``HashedCrossing`` of the
      features' preprocessed (integer) values, with Keras's (TensorFlow's) bins.

    ``output_mode="one_hot"`` encodes a feature as a 0/1 vector over its categories; ``"int"`` keeps
    the index (only in ``output_mode="dict"``); ``"float"`` is for float-valued preprocessors.

    Use: ``adapt(data)`` fits the preprocessing layers, then ``feature_space(data)`` encodes a dict of
    columns (batched: ``(n,)`` or ``(n, 1)`` values; or one sample: scalars) into backend tensors, e.g.
    in a dataset's ``.map(lambda x, y: (feature_space(x), y))``. ``get_inputs()`` (a dict of
    ``Input``s of shape ``(None, 1)``) and ``get_encoded_features()`` build models:
    ``lamina.Model(feature_space.get_inputs(), head(feature_space.get_encoded_features()))`` takes the
    raw columns, and saves and loads as any model. ``save("x.keras")`` saves the FeatureSpace alone
    (``lamina.saving.load_model`` reloads it). The layers are in ``.preprocessors`` (by feature name),
    ``.crossers`` (by cross name) and ``.one_hot_encoders``.

    Data: a dict of columns (NumPy arrays, lists, scalars, pandas Series or backend tensors; the first
    axis is the sample axis) or a pandas DataFrame. ``adapt`` also takes a ``lamina.utils.PyDataset``
    (e.g. ``split_dataset((dict(df), labels), ...)[0].batch(32)``, or its ``.map(lambda x, y: x)``) or any
    iterable of such dicts or of ``(dict, labels[, weights])`` tuples, batched or not.

    Example:
    >>> import numpy as np, lamina
    >>> data = {"price": np.array([1.0, 2.0, 3.0]), "color": np.array(["red", "blue", "red"])}
    >>> fs = lamina.utils.FeatureSpace({"price": "float_normalized", "color": "string_categorical"})
    >>> fs.adapt(data)
    >>> out = lamina.ops.convert_to_numpy(fs(data))  # color one-hot over [OOV, red, blue], then price
    >>> out.astype("float64").round(3).tolist()
    [[0.0, 1.0, 0.0, -1.225], [0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.225]]
    >>> fs.get_encoded_features().shape
    (None, 4)
    """

    # ---- feature constructors (Keras's classmethods) ---------------------------------------------------

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or uniquify("float")
        return Feature("float32", _layers().Identity(name=f"{name}_preprocessor", dtype="float32"), "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or uniquify("float_rescaled")
        return Feature("float32", _layers().Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or uniquify("float_normalized")
        return Feature("float32", _layers().Normalization(axis=-1, name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        who = "FeatureSpace.float_discretized"
        num_bins = _positive_int(who, "num_bins", num_bins)
        if bin_boundaries is not None:
            if len(bin_boundaries) != num_bins - 1:
                raise ValueError(f"{who}: bin_boundaries must hold num_bins - 1 = {num_bins - 1} values, but "
                                 f"received {len(bin_boundaries)}: {list(bin_boundaries)!r:.200}.")
            num_bins = None  # the boundaries are given: the layer is not adapted
        name = name or uniquify("float_discretized")
        layer = _layers().Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                         name=f"{name}_preprocessor")
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None):
        name = name or uniquify("integer_categorical")
        layer = _layers().IntegerLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                                        name=f"{name}_preprocessor")
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None):
        name = name or uniquify("string_categorical")
        layer = _layers().StringLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                                       name=f"{name}_preprocessor")
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or uniquify("string_hashed")
        return Feature("string", _layers().Hashing(num_bins=num_bins, name=f"{name}_preprocessor"), output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or uniquify("integer_hashed")
        return Feature("int32", _layers().Hashing(num_bins=num_bins, name=f"{name}_preprocessor"), output_mode)

    # ---- construction -----------------------------------------------------------------------------------

    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32, hashing_dim=32,
                 num_discretization_bins=32, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(features, dict) or not features:
            raise ValueError(f"{_WHO}: `features` must be a non-empty dict mapping feature names to feature "
                             f"types (e.g. {{'age': 'float_normalized'}}), but received {features!r:.200}.")
        self.crossing_dim = None if crossing_dim is None else _positive_int(_WHO, "crossing_dim", crossing_dim)
        self.hashing_dim = _positive_int(_WHO, "hashing_dim", hashing_dim)
        self.num_discretization_bins = _positive_int(_WHO, "num_discretization_bins", num_discretization_bins)
        self.output_mode = _check_mode(_WHO, output_mode, ("concat", "dict"))
        self.features = {key: self._standardize_feature(key, value) for key, value in features.items()}
        owners = {}
        for key, spec in self.features.items():
            other = owners.setdefault(id(spec.preprocessor), key)
            if other != key:
                raise ValueError(f"{_WHO}: features '{other}' and '{key}' share one preprocessor layer "
                                 f"('{spec.preprocessor.name}'); give each feature its own FeatureSpace.<kind>() "
                                 "object.")
        self.crosses = [self._standardize_cross(c) for c in (crosses or [])]
        self.crosses_by_name = {}
        for c in self.crosses:
            if c.name in self.features or c.name in self.crosses_by_name:
                raise ValueError(f"{_WHO}: the cross '{c.name}' is given twice or has the name of a feature.")
            self.crosses_by_name[c.name] = c
        layers = _layers()
        self.inputs = {key: layers.Input(shape=(1,), dtype=spec.dtype, name=key)
                       for key, spec in self.features.items()}
        self.preprocessors = {key: spec.preprocessor for key, spec in self.features.items()}
        self.crossers = {c.name: layers.HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses}
        self.one_hot_encoders = {}
        self.concat = None
        self.encoded_features = None
        self._is_adapted = False

    def _standardize_feature(self, key, value):
        if not isinstance(key, str) or not key:
            raise ValueError(f"{_WHO}: feature names must be non-empty strings, but received {key!r}.")
        if isinstance(value, Feature):
            return value
        if isinstance(value, dict):
            return _deserialize_spec(value, Feature)
        if value == "float_discretized":
            return self.float_discretized(self.num_discretization_bins, name=key)
        if value in ("integer_hashed", "string_hashed"):
            return getattr(self, value)(self.hashing_dim, name=key)
        if isinstance(value, str) and value in _SHORTHANDS:
            return getattr(self, value)(name=key)
        raise ValueError(f"{_WHO}: unknown type {value!r:.100} for feature '{key}'. Expected one of "
                         f"{list(_SHORTHANDS)} or an object from FeatureSpace.<kind>(...) (e.g. "
                         "FeatureSpace.string_categorical(max_tokens=10)) or FeatureSpace.feature(...).")

    def _standardize_cross(self, cross):
        if isinstance(cross, dict):
            cross = _deserialize_spec(cross, Cross)
        if not isinstance(cross, Cross):
            if self.crossing_dim is None:
                raise ValueError(f"{_WHO}: the cross {cross!r} is given by feature names, which needs "
                                 "`crossing_dim` (the number of bins), but crossing_dim=None.")
            cross = Cross(cross, crossing_dim=self.crossing_dim)
        unknown = [n for n in cross.feature_names if n not in self.features]
        if unknown:
            raise ValueError(f"{_WHO}: the cross {cross.feature_names} names unknown feature(s) {unknown}; "
                             f"expected names from `features`: {list(self.features)}.")
        return cross

    # ---- adapt ------------------------------------------------------------------------------------------

    def _adaptable_names(self):
        """The features whose preprocessor learns from data (a preset one, e.g. a given vocabulary, is kept)."""
        from lamina.layers.preprocessing.index_lookup import IndexLookup

        layers, names = _layers(), []
        for key, p in self.preprocessors.items():
            if not hasattr(p, "adapt"):
                continue
            if isinstance(p, layers.Normalization) and p.input_mean is not None:
                continue
            if isinstance(p, layers.Discretization) and p.num_bins is None:
                continue
            lookup = getattr(p, "_lookup", p)
            if isinstance(lookup, IndexLookup) and lookup.input_vocabulary is not None:
                continue
            names.append(key)
        return names

    def adapt(self, dataset):
        """Fit the preprocessing layers (vocabularies, statistics, bins) to ``dataset``: a dict of columns, a
        pandas DataFrame, a ``PyDataset`` or an iterable of dicts (or of ``(dict, labels)`` tuples)."""
        names = self._adaptable_names()
        columns = _data.adapt_columns(dataset, {key: self.features[key].dtype for key in names})
        for key in names:
            self.preprocessors[key].adapt(columns[key])
        self._is_adapted = True
        self._build_graph()

    # ---- encoding ---------------------------------------------------------------------------------------

    def _check_if_adapted(self):
        if not self._is_adapted:
            names = self._adaptable_names()
            if names:
                raise ValueError(f"{_WHO} '{self.name}' is not adapted: call feature_space.adapt(data) first "
                                 f"(the features {names} learn their vocabulary, statistics or bins from data).")
            self._is_adapted = True

    def _check_if_built(self):
        self._check_if_adapted()
        if self.encoded_features is None:
            self._build_graph()

    def _preprocess(self, values):
        """``[(name, tensor)]``: each feature through its preprocessor (sorted names), then each cross."""
        pre = {key: self.preprocessors[key](values[key]) for key in sorted(self.features)}
        for cross in self.crosses:
            for n in cross.feature_names:
                if not backend.is_int_dtype(_dtype(pre[n])):
                    raise ValueError(f"{_WHO}: the cross '{cross.name}' needs integer features, but feature '{n}' "
                                     f"is preprocessed to {_dtype(pre[n])} values. Cross categorical, hashed or "
                                     "discretized features.")
        out = list(pre.items())
        for cname in sorted(self.crosses_by_name):
            out.append((cname, self.crossers[cname]([pre[n] for n in self.crosses_by_name[cname].feature_names])))
        return out

    def _merge(self, pairs):
        encoded = {key: (self.one_hot_encoders[key](x) if key in self.one_hot_encoders else x) for key, x in pairs}
        return encoded if self.output_mode == "dict" else self.concat(list(encoded.values()))

    def _cardinality(self, key):
        from lamina.layers.preprocessing.index_lookup import IndexLookup

        layers = _layers()
        layer = self.preprocessors.get(key) or self.crossers.get(key)
        if isinstance(layer, IndexLookup):
            return layer.vocabulary_size()
        if isinstance(layer, layers.CategoryEncoding):
            return layer.num_tokens
        if isinstance(layer, layers.Discretization):
            return len(layer.bin_boundaries) + 1
        if isinstance(layer, (layers.Hashing, layers.HashedCrossing)):
            return layer.num_bins
        raise ValueError(f"{_WHO}: feature '{key}' has output_mode='one_hot', but the number of categories of its "
                         f"preprocessor {type(layer).__name__} is not known, so it cannot be one-hot encoded. Use "
                         "output_mode='int' (with the FeatureSpace's output_mode='dict').")

    def _build_graph(self):
        """Create the one-hot encoders and the concatenation, and the symbolic graph from ``self.inputs``."""
        layers = _layers()
        pairs = self._preprocess(self.inputs)
        specs = {**self.features, **self.crosses_by_name}
        self.one_hot_encoders.clear()  # (re)built for the vocabularies and bins of this adapt
        for key, x in pairs:
            if specs[key].output_mode == "one_hot":
                if not backend.is_int_dtype(x.dtype):
                    raise ValueError(f"{_WHO}: feature '{key}' has output_mode='one_hot', so its preprocessor must "
                                     f"return integer indices, but it returns {x.dtype} values. Use "
                                     "output_mode='float'.")
                self.one_hot_encoders[key] = layers.CategoryEncoding(num_tokens=self._cardinality(key),
                                                                     output_mode="multi_hot")
            elif self.output_mode == "concat" and not backend.is_float_dtype(x.dtype):
                raise ValueError(f"{_WHO}: cannot concatenate feature '{key}': it is not encoded (its values have "
                                 f"dtype {x.dtype}). Give it output_mode='one_hot', or use the FeatureSpace's "
                                 "output_mode='dict'.")
        self.concat = layers.Concatenate(axis=-1) if self.output_mode == "concat" else None
        self.encoded_features = self._merge(pairs)
        self.built = True

    def __call__(self, data):
        """Encode ``data``, a dict of columns (or a pandas DataFrame); one sample when every value is a scalar.
        Extra keys (e.g. the labels' column) are ignored."""
        cols = _data.as_columns(data)
        if cols is None:
            raise ValueError(f"{_WHO} must be called on a dict of feature columns (name -> values) or a pandas "
                             f"DataFrame, but received {type(data).__name__}.")
        missing = [key for key in self.features if key not in cols]
        if missing:
            raise ValueError(f"{_WHO}: the input lacks the feature(s) {missing} (expected the keys "
                             f"{list(self.features)}, received {sorted(str(k) for k in cols)}).")
        self._check_if_built()
        if any(isinstance(cols[key], KerasTensor) for key in self.features):
            return self._merge(self._preprocess({key: cols[key] for key in self.features}))
        raw = {key: _data.as_numpy(cols[key]) for key in self.features}
        single = all(v.ndim == 0 for v in raw.values())
        values = {key: _data.column(key, self.features[key].dtype, raw[key]) for key in self.features}
        sizes = {key: len(v) for key, v in values.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"{_WHO}: every feature must have the same number of samples, but received {sizes}.")
        out = self._merge(self._preprocess(values))
        if single:
            if isinstance(out, dict):
                return {key: ops.squeeze(x, 0) for key, x in out.items()}
            return ops.squeeze(out, 0)
        return out

    def get_inputs(self):
        """The dict of ``Input``s (shape ``(None, 1)``, one per feature) the encoded features are built on."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features of ``get_inputs()``: one symbolic tensor (``"concat"``) or a dict (``"dict"``)."""
        self._check_if_built()
        return self.encoded_features

    # ---- saving -----------------------------------------------------------------------------------------

    def get_config(self):
        return {"name": self.name, "features": {k: serialize_object(f) for k, f in self.features.items()},
                "output_mode": self.output_mode, "crosses": [serialize_object(c) for c in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        if not self._is_adapted:
            return None
        return {key: {"input_shape": [None, 1]} for key in self.preprocessors}  # each Input has shape (None, 1)

    def build_from_config(self, config):
        """Restore an adapted FeatureSpace (its layers' state is in the config and the weights file)."""
        for key, p in self.preprocessors.items():
            if not p.built:
                p.build_from_config((config or {}).get(key) or {"input_shape": [None, 1]})
        self._is_adapted = True
        self._build_graph()
        self.built = True

    def save(self, filepath):
        """Save the FeatureSpace (configuration and adapted state) to a ``.keras`` file; reload it with
        ``lamina.saving.load_model(filepath)``."""
        import os

        from lamina.saving import keras_archive

        if not isinstance(filepath, (str, os.PathLike)) or not os.fspath(filepath).endswith(".keras"):
            raise ValueError(f"{_WHO}.save expected a file path ending in '.keras', but received {filepath!r}.")
        keras_archive.save_keras(self, os.fspath(filepath))
