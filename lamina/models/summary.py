"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

from lamina.layers.core.input_layer import InputLayer


def _count(weights):
    total = 0
    for v in weights:
        n = 1
        for d in v.shape:
            n *= d
        total += n
    return total


def _size_str(n_params, weights):
    nbytes = sum(_count([v]) * _itemsize(v.dtype) for v in weights) if weights else n_params * 4
    for unit, div in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if nbytes >= div:
            return f"{nbytes / div:.2f} {unit}"
    return f"{nbytes:.2f} B"


def _itemsize(dtype):
    return {"float16": 2, "bfloat16": 2, "float64": 8, "int64": 8, "int8": 1, "uint8": 1, "bool": 1}.get(dtype, 4)


def _shape_str(layer):
    shapes = []
    for node in layer._inbound_nodes:
        outs = node.output_tensors
        if outs:
            shapes.append(outs[0].shape if len(outs) == 1 else [o.shape for o in outs])
    if not shapes:
        return "?"
    first = shapes[0]
    return str(first if isinstance(first, tuple) else tuple(first)) if len(shapes) == 1 or all(
        s == first for s in shapes) else "multiple"


def _connected(layer, model):
    parts = []
    for node in layer._inbound_nodes:
        if model is not None and not _node_in_model(node, model):
            continue
        for t in node.input_tensors:
            h = t._history
            if h is not None:
                parts.append(f"{h.operation.name}[{h.node_index}][{h.tensor_index}]")
    return parts or ["-"]


def _node_in_model(node, model):
    steps = getattr(model, "_steps", None)
    return steps is None or any(s.node is node for s in steps)


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False):
    """Print the summary table of ``model`` (Keras 3's layout)."""
    print_fn = print_fn or print
    functional = hasattr(model, "_steps")
    layers = [l for l in model.layers] if functional else list(model.layers)
    def own_nodes(layer):  # the calls of the layer in this model (a shared layer has others elsewhere)
        return [n for n in layer._inbound_nodes if not functional or _node_in_model(n, model)]

    sequential_like = not functional or all(
        len(own_nodes(l)) <= 1 and sum(len(n.input_tensors) for n in own_nodes(l)) <= 1
        for l in layers if not isinstance(l, InputLayer))
    if sequential_like:
        headers = ["Layer (type)", "Output Shape", "Param #"]
        widths = [31, 22, 13] if line_length is None else _split(line_length, (0.45, 0.78, 1.0))
    else:
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        widths = [19, 17, 10, 17] if line_length is None else _split(line_length, (0.3, 0.55, 0.7, 1.0))
    rows = []
    for layer in layers:
        name = f"{layer.name} ({type(layer).__name__})"
        params = _count(layer.weights) if layer.built else 0
        row = [name, _shape_str(layer), f"{params:,}"]
        if not sequential_like:
            row.append(", ".join(_connected(layer, model)))
        rows.append(row)
    print_fn(f'Model: "{model.name}"')
    print_fn(_rule("┏", "┳", "┓", "━", widths))
    print_fn(_row(headers, widths, "┃", right=(2,)))
    print_fn(_rule("┡", "╇", "┩", "━", widths))
    for i, row in enumerate(rows):
        print_fn(_row(row, widths, "│", right=(2,)))
        if i < len(rows) - 1:
            print_fn(_rule("├", "┼", "┤", "─", widths))
    print_fn(_rule("└", "┴", "┘", "─", widths))
    tw, ntw = model.trainable_weights, model.non_trainable_weights
    n_t, n_nt = _count(tw), _count(ntw)
    print_fn(f" Total params: {n_t + n_nt:,} ({_size_str(n_t + n_nt, tw + ntw)})")
    print_fn(f" Trainable params: {n_t:,} ({_size_str(n_t, tw)})")
    print_fn(f" Non-trainable params: {n_nt:,} ({_size_str(n_nt, ntw)})")
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "built", False):
        ov = [v for v in opt.variables]
        n_o = _count(ov)
        if n_o:
            print_fn(f" Optimizer params: {n_o:,} ({_size_str(n_o, ov)})")


def _split(total, cuts):
    out, prev = [], 0
    for c in cuts:
        pos = int(total * c)
        out.append(max(pos - prev - 1, 4))
        prev = pos
    return out


def _rule(left, mid, right, fill, widths):
    return left + mid.join(fill * (w + 2) for w in widths) + right


def _row(cells, widths, sep, right=()):
    out = []
    for i, (c, w) in enumerate(zip(cells, widths)):
        c = str(c)
        if len(c) > w:
            c = c[: w - 1] + "…"
        out.append(" " + (c.rjust(w) if i in right else c.ljust(w)) + " ")
    return sep + sep.join(out) + sep
