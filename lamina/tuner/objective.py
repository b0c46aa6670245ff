"""``Objective``: which metric a search optimizes and in which direction."""

_MAX_WORDS = ("acc", "accuracy", "auc", "precision", "recall", "f1", "fbeta", "r2", "iou", "top_k",
              "categorical_accuracy", "binary_accuracy")
_MIN_WORDS = ("loss", "error", "mae", "mse", "mape", "msle", "rmse", "crossentropy", "hinge", "poisson",
              "kl_divergence", "kld", "cosine_similarity_loss", "logcosh", "huber")


def infer_direction(name):
    """'min' or 'max' for a metric name such as 'val_loss' or 'accuracy'; None when unknown."""
    base = name[4:] if name.startswith("val_") else name
    base = base.lower()
    # the losses logged as metrics (binary/categorical/sparse_categorical_crossentropy, squared/categorical hinge)
    if base in _MIN_WORDS or base.endswith(("_loss", "_error", "crossentropy", "hinge")) or \
            base.startswith(("mean_", "root_mean_")) and base.endswith(("error", "deviation")):
        return "min"
    # the CosineSimilarity metric logs the similarity itself (its loss form logs as 'loss')
    if base in _MAX_WORDS or base == "cosine_similarity" or \
            base.endswith(("accuracy", "_auc", "precision", "recall", "_score")):
        return "max"
    return None


class Objective:
    """A metric name and a direction, ``'min'`` or ``'max'``.

    Example:
    >>> Objective("val_f1", direction="max")
    Objective(name='val_f1', direction='max')
    """

    def __init__(self, name, direction):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Objective: `name` must be a metric name string, but received {name!r}.")
        if direction not in ("min", "max"):
            raise ValueError(f"Objective '{name}': `direction` must be 'min' or 'max', but received {direction!r}.")
        self.name = name
        self.direction = direction

    @property
    def optuna_direction(self):
        return "minimize" if self.direction == "min" else "maximize"

    def better(self, a, b):
        """Whether value ``a`` is strictly better than ``b`` (None is worst)."""
        if b is None:
            return a is not None
        if a is None:
            return False
        return a < b if self.direction == "min" else a > b

    def signed(self, value):
        """The value as a quantity to minimize."""
        return value if self.direction == "min" else -value

    def __eq__(self, other):
        return isinstance(other, Objective) and (self.name, self.direction) == (other.name, other.direction)

    def __hash__(self):
        return hash((self.name, self.direction))

    def __repr__(self):
        return f"Objective(name={self.name!r}, direction={self.direction!r})"


DEFAULT_OBJECTIVE_NAME = "default_objective"


def to_objectives(objective):
    """A list of ``Objective``s from what a user passes: None, a string, an Objective or a list of those."""
    if objective is None:
        return [Objective(DEFAULT_OBJECTIVE_NAME, "min")]
    if isinstance(objective, (list, tuple)):
        if not objective:
            raise ValueError("objective: an empty list was given; give a metric name or Objective(...).")
        out = [o for item in objective for o in to_objectives(item)]
        if len({o.name for o in out}) != len(out):
            raise ValueError(f"objective: the list names a metric twice: {[o.name for o in out]}.")
        return out
    if isinstance(objective, Objective):
        return [objective]
    if isinstance(objective, str):
        direction = infer_direction(objective)
        if direction is None:
            raise ValueError(f"objective '{objective}': cannot infer whether to minimize or maximize this metric. "
                             f"Pass lamina.tuner.Objective('{objective}', direction='min') or direction='max'.")
        return [Objective(objective, direction)]
    raise TypeError(f"objective must be a metric name, an Objective or a list of them, but received {objective!r}.")
