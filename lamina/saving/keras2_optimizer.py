"""Optimizer state saved by tf.keras 2 in a whole-model ``.h5`` file, mapped to lamina's slots.

tf.keras 2 writes the group ``optimizer_weights`` with the attribute
``weight_names`` and one dataset per name, in one of two layouts:

* TF 2.11+ optimizers: ``iteration:0`` then, per model variable, one slot per
  kind named ``[<Optimizer>/]<slot>/<variable>:0`` (Adam: ``m/dense/kernel:0``,
  ``v/dense/kernel:0``...).
* the older ``optimizer_v2`` optimizers (``tf.keras.optimizers.legacy``):
  ``<Optimizer>/iter:0``, the hyper-parameters (``<Optimizer>/beta_1:0``,
  ``learning_rate:0``, ``decay:0``...) and slots ``<Optimizer>/<variable>/<slot>:0``.

Slots are matched to the model's variables by name (the layer and weight names
of tf.keras 2 and lamina agree), so the order in the file does not matter.
Hyper-parameters come from the compile config; the saved learning rate is kept.
"""

from lamina.saving.file_safety import read_dataset

# tf.keras 2 slot name -> lamina slot name, per optimizer family; others keep their name.
_SLOTS = {
    "adam": {"m": "momentum", "v": "velocity", "vhat": "velocity_hat"},
    "sgd": {"m": "momentum", "momentum": "momentum"},
    "rmsprop": {"rms": "velocity", "mg": "average_gradient", "momentum": "momentum"},
    "adagrad": {"accumulator": "accumulator"},
}
_ITERATION = ("iter", "iteration", "iterations")
_HYPER = ("beta_1", "beta_2", "decay", "epsilon", "rho", "momentum", "initial_accumulator_value", "weight_decay")


def _family(optimizer):
    name = type(optimizer).__name__.lower()
    return "adam" if name.startswith(("adam", "nadam")) else name


def _parse(name, paths, slots):
    """Return ("iteration"|"learning_rate"|"hyper", None) or ("slot", (lamina_slot, path)); None if unknown."""
    bare = name[:-2] if name.endswith(":0") else name
    last = bare.rsplit("/", 1)[-1]
    for path in sorted(paths, key=len, reverse=True):
        if bare.endswith("/" + path):  # TF 2.11+ layout: [prefix/]slot/path
            slot = bare[:-len(path) - 1].rsplit("/", 1)[-1]
            return "slot", (slots.get(slot, slot), path)
        rest, _, slot = bare.rpartition("/")
        if rest == path or rest.endswith("/" + path):  # legacy layout: [prefix/]path/slot
            return "slot", (slots.get(slot, slot), path)
    if last in _ITERATION:
        return "iteration", None
    if last in ("learning_rate", "lr"):
        return "learning_rate", None
    if last in _HYPER:
        return "hyper", None
    return None


def _get(group, name, source):
    try:
        return group[name]
    except (KeyError, ValueError, OSError) as e:
        raise ValueError(f"the optimizer variable '{name}' is listed in 'weight_names' but missing ({e}).") from None


def load_keras2_optimizer(optimizer, model, group, names, source):
    """Assign the tf.keras 2 optimizer state in ``group`` to lamina's (built) ``optimizer``.

    Raises:
        ValueError: naming the first variable that cannot be matched, or a shape
            that differs; nothing is assigned then.
    """
    trainable = list(model.trainable_variables)
    # tf.keras 2 named variables by layer ("dense/kernel"); lamina's paths, as Keras 3's, may start with the
    # enclosing model's or layer's name ("sequential/dense/kernel"): every unambiguous tail matches.
    paths, seen = {}, {}
    for v in trainable:
        parts = str(v.path).split("/")
        for i in range(len(parts)):
            tail = "/".join(parts[i:])
            seen[tail] = seen.get(tail, 0) + 1
            paths.setdefault(tail, v)
    paths = {tail: v for tail, v in paths.items() if seen[tail] == 1 or tail == str(v.path)}
    slots = _SLOTS.get(_family(optimizer), {})
    prefix = optimizer.name + "/"
    lamina_slots = {str(v.name)[len(prefix):]: v for v in optimizer.variables if str(v.name).startswith(prefix)}
    plan = []
    for name in names:
        parsed = _parse(name, paths, slots)
        if parsed is None:
            raise ValueError(f"the optimizer variable '{name}' matches none of the model's variables "
                             f"({sorted(paths)[:6]}...).")
        kind, detail = parsed
        if kind == "hyper":
            continue
        if kind == "iteration":
            plan.append((name, optimizer._iterations))
        elif kind == "learning_rate":
            target = getattr(optimizer, "learning_rate", None)
            if hasattr(target, "assign"):
                plan.append((name, target))
        else:
            slot, path = detail
            key = f"{str(paths[path].path).replace('/', '_')}_{slot}"
            if key not in lamina_slots:
                raise ValueError(f"the optimizer variable '{name}' is a '{slot}' slot of '{path}', which lamina's "
                                 f"{type(optimizer).__name__} does not have.")
            plan.append((name, lamina_slots[key]))
    special = (id(optimizer._iterations), id(getattr(optimizer, "learning_rate", None)))
    expected = [v for v in optimizer.variables if id(v) not in special]
    found = {id(v) for _, v in plan if id(v) not in special}
    if id(optimizer._iterations) not in {id(v) for _, v in plan}:
        raise ValueError("it has no iteration count ('iteration:0' or '<optimizer>/iter:0').")
    if len(found) != len(expected) or sum(1 for _, v in plan if id(v) not in special) != len(found):
        missing = [str(v.name) for v in expected if id(v) not in found]
        raise ValueError(f"it holds {len(found)} distinct slot variables, but lamina's {type(optimizer).__name__} "
                         f"has {len(expected)} for this model (not in the file: {missing[:4]}).")
    values = [read_dataset(_get(group, name, source), source, f"optimizer_weights/{name}", tuple(v.shape), str(v.dtype))
              for name, v in plan]
    for (_, variable), value in zip(plan, values):
        variable.assign(value)
