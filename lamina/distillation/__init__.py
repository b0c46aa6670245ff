"""Knowledge distillation (``keras.distillation``): train a small student model on the labels and on what a
trained teacher model outputs.

``Distiller(teacher, student, distillation_losses)`` is a model: ``compile`` it with the student's own loss,
``fit`` it, then use ``distiller.student``. Its loss is
``student_loss_weight * student_loss + (1 - student_loss_weight) * sum(w_i * distillation_loss_i)``, and the
logs report ``student_loss``, ``distillation_loss`` and ``total_loss`` beside ``loss``.

Example:
>>> import numpy as np, lamina
>>> from lamina.distillation import Distiller, LogitsDistillation
>>> def mlp(units):
...     return lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(units, activation="relu"),
...                               lamina.layers.Dense(3)])
>>> distiller = Distiller(teacher=mlp(16), student=mlp(4),
...                       distillation_losses=LogitsDistillation(temperature=2.0))
>>> distiller.compile(optimizer="adam",
...                   loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True))
>>> history = distiller.fit(np.random.rand(32, 4), np.random.randint(0, 3, 32), epochs=1, verbose=0)
>>> sorted(history.history)
['distillation_loss', 'loss', 'student_loss', 'total_loss']
"""

from lamina import losses as _losses
from lamina import ops, tree
from lamina.metrics import Mean
from lamina.models.model import Model


def _to_loss(item, who):
    """A loss from a name, a loss object or a function (None stays None: that output is not distilled)."""
    if item is None or callable(item) and not isinstance(item, str):
        return item
    if isinstance(item, str):
        return _losses.get(item)
    raise ValueError(f"{who}: each loss must be a loss name, a loss object, a function or None, but received "
                     f"{item!r}.")


def _losses_structure(loss, who):
    converted = tree.map_structure(lambda item: _to_loss(item, who), loss)
    if all(item is None for item in tree.flatten(converted)):
        raise ValueError(f"{who}: `loss` must hold at least one loss that is not None, but received {loss!r}.")
    return converted


def _serialize_losses(loss):
    from lamina.saving import serialize_keras_object

    return tree.map_structure(serialize_keras_object, loss)


def _deserialize_losses(config):
    if isinstance(config, dict) and "class_name" in config:
        return _losses.deserialize(config)
    if isinstance(config, (list, tuple)):
        return [_deserialize_losses(c) for c in config]
    if isinstance(config, dict):
        return {k: _deserialize_losses(v) for k, v in config.items()}
    return config


class DistillationLoss:
    """Base class of distillation losses: ``compute_loss(teacher_outputs, student_outputs)`` returns a scalar.

    Subclass it for a custom distillation; ``validate_outputs`` and ``validate_model_compatibility`` may be
    overridden to check the models and outputs before training."""

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement compute_loss(teacher_outputs, "
                                  "student_outputs).")

    def validate_outputs(self, teacher_outputs, student_outputs):
        """Raise ``ValueError`` unless the teacher's and the student's outputs have the same structure."""
        try:
            tree.assert_same_structure(teacher_outputs, student_outputs)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}: the teacher's and the student's outputs must have the same "
                             f"structure. {e}") from None

    def validate_model_compatibility(self, teacher, student):
        """Raise ``ValueError`` when the teacher and the student cannot be distilled with this loss."""


class LogitsDistillation(DistillationLoss):
    """Match the student's logits to the teacher's, both divided by ``temperature``.

    With ``loss="kl_divergence"`` (the default) the softened logits are turned into probabilities (softmax) and
    the KL divergence is scaled by ``temperature ** 2``, as in Hinton et al.; other losses compare the
    softened logits directly.

    Args:
        temperature: a positive number; higher values soften the teacher's distribution. Default 3.0.
        loss: a loss (name, object or function), or a structure of them matching the models' outputs (None
            for an output that is not distilled).
    """

    def __init__(self, temperature=3.0, loss="kl_divergence"):
        who = "LogitsDistillation"
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            raise ValueError(f"{who}: temperature must be a number, but received {temperature!r}.")
        if temperature <= 0:
            raise ValueError(f"{who}: temperature must be positive, but received {temperature}.")
        self.temperature = temperature
        self.loss = _losses_structure(loss, who)

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        t = self.temperature

        def one(loss_fn, teacher, student):
            if loss_fn is None:
                return None
            teacher, student = ops.divide(teacher, t), ops.divide(student, t)
            # The KL divergence compares distributions: both the class and the function form get probabilities
            # (Keras 3.15's own check sees the class only, so its default, the function, compares logits).
            if isinstance(loss_fn, _losses.KLDivergence) or loss_fn is _losses.kl_divergence:
                value = ops.mean(loss_fn(ops.softmax(teacher, axis=-1), ops.softmax(student, axis=-1)))
                return value * (t ** 2)
            return ops.mean(loss_fn(teacher, student))

        return _sum_losses(self.loss, teacher_outputs, student_outputs, one)

    def validate_outputs(self, teacher_outputs, student_outputs):
        super().validate_outputs(teacher_outputs, student_outputs)
        _check_loss_structure(type(self).__name__, self.loss, teacher_outputs)

    def get_config(self):
        return {"temperature": self.temperature, "loss": _serialize_losses(self.loss)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = _deserialize_losses(config["loss"])
        return cls(**config)


class FeatureDistillation(DistillationLoss):
    """Match the student's features to the teacher's: the outputs of a named layer of each (functional or
    Sequential models), or the final outputs when no layer is named.

    Args:
        loss: a loss (name, object or function; default ``"mse"``), or a structure of them matching the
            features (None for one that is not distilled).
        teacher_layer_name: the teacher layer whose output is distilled (None: the model's output).
        student_layer_name: the student layer that learns it (None: the model's output).
    """

    def __init__(self, loss="mse", teacher_layer_name=None, student_layer_name=None):
        self.loss = _losses_structure(loss, "FeatureDistillation")
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name

    def validate_model_compatibility(self, teacher, student):
        for role, model, name in (("teacher", teacher, self.teacher_layer_name),
                                  ("student", student, self.student_layer_name)):
            if name is None:
                continue
            if not getattr(model, "inputs", None):
                raise ValueError(f"FeatureDistillation: a layer name ({name!r}) needs a functional or Sequential "
                                 f"{role} model (with symbolic inputs and outputs), but the {role} '{model.name}' "
                                 "is a subclassed model. Name no layer (distill the final outputs) or use "
                                 "LogitsDistillation.")
            try:
                model.get_layer(name=name)
            except ValueError as e:
                raise ValueError(f"FeatureDistillation: in the {role} model: {e}") from None

    def validate_outputs(self, teacher_outputs, student_outputs):
        super().validate_outputs(teacher_outputs, student_outputs)
        _check_loss_structure(type(self).__name__, self.loss, teacher_outputs)

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        def one(loss_fn, teacher, student):
            return None if loss_fn is None else ops.mean(loss_fn(teacher, student))

        return _sum_losses(self.loss, teacher_outputs, student_outputs, one)

    def get_config(self):
        return {"loss": _serialize_losses(self.loss), "teacher_layer_name": self.teacher_layer_name,
                "student_layer_name": self.student_layer_name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = _deserialize_losses(config["loss"])
        return cls(**config)


def _check_loss_structure(who, loss, outputs):
    if not tree.is_nested(loss):
        return  # one loss for every output
    try:
        tree.assert_same_structure(loss, outputs)
    except ValueError as e:
        raise ValueError(f"{who}: the structure of `loss` must match the outputs'. {e}") from None


def _sum_losses(loss, teacher_outputs, student_outputs, one):
    if tree.is_nested(loss):
        values = tree.flatten(tree.map_structure(one, loss, teacher_outputs, student_outputs))
    else:
        values = [one(loss, t, s) for t, s in zip(tree.flatten(teacher_outputs), tree.flatten(student_outputs))]
    values = [v for v in values if v is not None]
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


class Distiller(Model):
    """A model that trains ``student`` on the labels and on ``teacher``'s outputs (the teacher is frozen).

    Args:
        teacher: a trained model, the source of the knowledge (set to ``trainable = False``).
        student: the model to train; use ``distiller.student`` afterwards.
        distillation_losses: a ``DistillationLoss`` (``LogitsDistillation``, ``FeatureDistillation``, your
            own) or a list of them.
        distillation_loss_weights: one weight per distillation loss (default: 1.0 each).
        student_loss_weight: the share of the student's own loss, in ``[0, 1]`` (default 0.5); the
            distillation losses get ``1 - student_loss_weight``.
        name: the model's name (default ``"distiller"``).
    """

    def __init__(self, teacher, student, distillation_losses, distillation_loss_weights=None,
                 student_loss_weight=0.5, name="distiller", **kwargs):
        super().__init__(name=name, **kwargs)
        who = "Distiller"
        for role, model in (("teacher", teacher), ("student", student)):
            if not isinstance(model, Model):
                raise ValueError(f"{who}: the {role} must be a lamina Model, but received {type(model).__name__}.")
        _check_compatible(teacher, student)
        if isinstance(student_loss_weight, bool) or not isinstance(student_loss_weight, (int, float)) or \
                not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError(f"{who}: student_loss_weight must be a number in [0, 1], but received "
                             f"{student_loss_weight!r}.")
        if distillation_losses is None:
            raise ValueError(f"{who}: distillation_losses cannot be None; pass a DistillationLoss (e.g. "
                             "LogitsDistillation or FeatureDistillation) or a list of them.")
        if not isinstance(distillation_losses, (list, tuple)):
            distillation_losses = [distillation_losses]
        for d in distillation_losses:
            if not isinstance(d, DistillationLoss):
                raise ValueError(f"{who}: distillation_losses must be DistillationLoss objects, but received "
                                 f"{d!r}.")
        if distillation_loss_weights is None:
            distillation_loss_weights = [1.0] * len(distillation_losses)
        elif len(distillation_loss_weights) != len(distillation_losses):
            raise ValueError(f"{who}: {len(distillation_loss_weights)} distillation_loss_weights for "
                             f"{len(distillation_losses)} distillation_losses; give one weight per loss.")
        self.teacher = teacher
        self.student = student
        self.student_loss_weight = student_loss_weight
        self.distillation_losses = list(distillation_losses)
        self.distillation_loss_weights = list(distillation_loss_weights)
        for d in self.distillation_losses:
            d.validate_model_compatibility(teacher, student)
        self._teacher_features = _feature_extractor(
            teacher, [getattr(d, "teacher_layer_name", None) for d in self.distillation_losses])
        self._student_features = _feature_extractor(
            student, [getattr(d, "student_layer_name", None) for d in self.distillation_losses])
        self.teacher.trainable = False
        self.student_loss_tracker = Mean(name="student_loss")
        self.distillation_loss_tracker = Mean(name="distillation_loss")
        self.total_loss_tracker = Mean(name="total_loss")

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """Compile with the student's own ``loss`` (required; a structure of losses for several outputs)."""
        if loss is None:
            raise ValueError("Distiller.compile: `loss` (the student's own loss on the labels) cannot be None.")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError(f"Distiller.compile: metrics must be a list or tuple, but received "
                             f"{type(metrics).__name__}.")
        self._student_loss = tree.map_structure(lambda item: _to_loss(item, "Distiller.compile"), loss)
        self._student_loss_config = loss
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def call(self, inputs, training=None):
        return self.student(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss = ops.zeros(())
        if self.student_loss_weight > 0.0 and y is not None:
            if tree.is_nested(self._student_loss):
                values = tree.flatten(tree.map_structure(lambda fn, t, p: fn(t, p), self._student_loss, y, y_pred))
            else:
                values = [self._student_loss(y, y_pred)]
            values = [ops.mean(v) for v in values]
            student_loss = values[0]
            for v in values[1:]:
                student_loss = student_loss + v
        distillation_loss = ops.zeros(())
        if self.student_loss_weight < 1.0:
            teacher_features = self._features(self._teacher_features, self.teacher, x, training=False)
            student_features = self._features(self._student_features, self.student, x, training=True) \
                if self._student_features is not None else {None: y_pred}
            for d, weight in zip(self.distillation_losses, self.distillation_loss_weights):
                teacher_out = teacher_features[getattr(d, "teacher_layer_name", None)]
                student_out = student_features[getattr(d, "student_layer_name", None)]
                d.validate_outputs(teacher_out, student_out)
                value = d.compute_loss(teacher_out, student_out)
                if len(getattr(value, "shape", ())) > 0:
                    raise ValueError(f"{type(d).__name__}.compute_loss must return a scalar, but returned a tensor of "
                                     f"shape {tuple(value.shape)}.")
                distillation_loss = distillation_loss + weight * value
        total = self.student_loss_weight * student_loss + (1.0 - self.student_loss_weight) * distillation_loss
        self.student_loss_tracker.update_state(student_loss)
        self.distillation_loss_tracker.update_state(distillation_loss)
        self.total_loss_tracker.update_state(total)
        return total

    @staticmethod
    def _features(extractor, model, x, training):
        if extractor is None:
            return {None: model(x, training=training)}
        return extractor(x, training=training)

    def get_config(self):
        from lamina.saving import serialize_keras_object

        return {"name": self.name, "teacher": serialize_keras_object(self.teacher),
                "student": serialize_keras_object(self.student),
                "distillation_losses": [serialize_keras_object(d) for d in self.distillation_losses],
                "distillation_loss_weights": list(self.distillation_loss_weights),
                "student_loss_weight": self.student_loss_weight}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.saving import deserialize_keras_object

        config = dict(config)
        for key in ("teacher", "student"):
            config[key] = deserialize_keras_object(config[key], custom_objects=custom_objects)
        config["distillation_losses"] = [deserialize_keras_object(d, custom_objects=custom_objects)
                                         for d in config["distillation_losses"]]
        return cls(**config)


def _check_compatible(teacher, student):
    """The teacher and the student must take the same inputs and give outputs of the same shapes and dtypes."""
    for kind in ("inputs", "outputs"):
        a, b = getattr(teacher, kind, None), getattr(student, kind, None)
        if not a or not b:
            continue  # a subclassed model: checked when training
        a, b = tree.flatten(a), tree.flatten(b)
        if len(a) != len(b):
            raise ValueError(f"Distiller: the teacher has {len(a)} {kind} and the student {len(b)}; they must match.")
        for ta, sb in zip(a, b):
            sa, ss = tuple(ta.shape), tuple(sb.shape)
            if len(sa) != len(ss) or any(x is not None and y is not None and x != y for x, y in zip(sa, ss)):
                raise ValueError(f"Distiller: the teacher's and the student's {kind} shapes must match, but the "
                                 f"teacher has {sa} and the student {ss}.")
            if ta.dtype != sb.dtype:
                raise ValueError(f"Distiller: the teacher's and the student's {kind} dtypes must match, but the "
                                 f"teacher has {ta.dtype} and the student {sb.dtype}.")


def _feature_extractor(model, layer_names):
    """A functional model giving the outputs of the named layers (key: the name) and the final output (key:
    None), or None when no layer is named."""
    names = [n for n in dict.fromkeys(layer_names) if n is not None]
    if not names:
        return None
    outputs = {None: model.outputs[0] if len(model.outputs) == 1 else model.outputs}
    for n in names:
        outputs[n] = model.get_layer(name=n).output
    return _DictOutputs(model.inputs, outputs, model.name)


class _DictOutputs:
    """Run a model's graph up to several of its layers' outputs (a functional model keyed by layer name)."""

    def __init__(self, inputs, outputs, name):
        keys = list(outputs)
        self._keys = keys
        self._model = Model(inputs=inputs, outputs=[outputs[k] for k in keys], name=f"{name}_features")

    def __call__(self, x, training=None):
        values = self._model(x, training=training)
        values = values if isinstance(values, (list, tuple)) else [values]
        return dict(zip(self._keys, values))
