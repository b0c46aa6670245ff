"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts.

Keras renders the table with ``rich``; lamina lays it out the same way without it (the column widths, word
wrapping, ``…`` truncation and box characters of ``rich`` as Keras 3 configures it), so the text matches Keras
3's character for character where Keras prints plain text: to a file, a pipe, a log, or a ``print_fn``. In a
terminal Keras also colours the numbers and names; lamina prints the same text without colour.

Like Keras, the whole summary is one string (ending with a newline): ``print_fn`` gets it in a single call,
``print_fn(text)``, and without ``print_fn`` it is written to standard output (or to the ``"lamina"`` logger
when interactive logging is off, see ``lamina.utils.disable_interactive_logging``).
"""

import math
import os
import re
import shutil
import sys

_ELLIPSIS = "…"

# rich's box styles (``rich.box.HEAVY_HEAD``, and ``rich.box.ASCII`` for a console that is not UTF-8): for each
# kind of line, its left edge, filler, column divider and right edge.
_HEAVY_HEAD = {"top": "┏━┳┓", "head": "┃ ┃┃", "head_row": "┡━╇┩", "mid": "│ ││", "row": "├─┼┤", "bottom": "└─┴┘"}
_ASCII = {"top": "+--+", "head": "| ||", "head_row": "|-+|", "mid": "| ||", "row": "|-+|", "bottom": "+--+"}

# Bits per element, as Keras's ``dtype_utils.dtype_size``.
_DTYPE_BITS = {
    **{f"float{i}": i for i in (16, 32, 64)},
    **{f"int{i}": i for i in (8, 16, 32, 64)},
    **{f"uint{i}": i for i in (8, 16, 32, 64)},
    "bfloat16": 16,
    "bool": 1,
}


# ---- counts and sizes ----------------------------------------------------------------------------------------


def count_params(weights):
    """The number of scalars in ``weights`` (Keras's ``summary_utils.count_params``)."""
    return int(sum(math.prod(v.shape) for v in weights))


def _dtype_bits(dtype):
    name = str(getattr(dtype, "name", dtype)).replace("torch.", "")
    if name in _DTYPE_BITS:
        return _DTYPE_BITS[name]
    try:
        from lamina.backend import standardize_dtype

        name = standardize_dtype(dtype)
    except Exception:  # an unusual dtype: count it by NumPy's size, else as 32 bits
        pass
    if name in _DTYPE_BITS:
        return _DTYPE_BITS[name]
    try:
        import numpy as np

        return np.dtype(name).itemsize * 8
    except Exception:
        return 32


def weight_memory_size(weights):
    """The bytes ``weights`` take (each variable once), as Keras's ``summary_utils.weight_memory_size``."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) * _dtype_bits(w.dtype) for w in unique) / 8


def readable_memory_size(size):
    """``size`` bytes as Keras writes them: ``"780.00 B"``, ``"105.88 KB"``, ``"15.27 MB"``..."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return "{:.2f} {}".format(size, unit)
        size /= 1024
    return "{:.2f} {}".format(size, units[-1])


# ---- the cells -----------------------------------------------------------------------------------------------


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, int) for d in x)


def _format_structure(shapes):
    """A structure of shapes as Keras writes it: ``str()`` of the formatted shapes, without quotes."""
    def fmt(x):
        if _is_shape(x):
            return _format_shape(x)
        if isinstance(x, dict):
            return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in x.items()) + "}"
        if isinstance(x, (list, tuple)):
            inner = ", ".join(fmt(v) for v in x)
            return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
        return str(x)

    return fmt(shapes)


def format_layer_shape(layer):
    """The "Output Shape" cell: the outputs of the layer's last call on symbolic tensors; for a layer only called
    on data (in a subclassed model), the shape it computes for the inputs it was built for; else ``?``."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        outs = nodes[-1].output_tensors
        if len(outs) == 1:
            return _format_shape(outs[0].shape)
        return "[" + ", ".join(_format_shape(t.shape) for t in outs) + "]"
    build_shapes = getattr(layer, "_build_shapes", None)
    if build_shapes is None:
        return "?"
    from lamina.models.model import Model

    try:
        if isinstance(layer, Model) and hasattr(type(layer), "output_shape"):
            shapes = layer.output_shape
        else:
            from lamina.layers.layer import _overrides

            if not _overrides(type(layer), "compute_output_shape"):
                return "?"  # Keras's base Layer cannot compute it either (lamina's would trace ``call``)
            shapes = layer.compute_output_shape(build_shapes)
    except Exception:
        return "?"
    if shapes is None:
        return "?"
    if _is_shape(shapes):
        return _format_shape(shapes)
    flat = _flat_shapes(shapes)
    if len(flat) == 1:
        return _format_shape(flat[0])
    return _format_structure(shapes)


def _flat_shapes(x):
    if _is_shape(x):
        return [tuple(x)]
    if isinstance(x, dict):
        return [s for v in x.values() for s in _flat_shapes(v)]
    if isinstance(x, (list, tuple)):
        return [s for v in x for s in _flat_shapes(v)]
    return []


def _class_name(op):
    from lamina.ops.operation import FunctionOperation

    if isinstance(op, FunctionOperation):  # Keras has a class per op: ops.add -> Add, ops.get_item -> GetItem
        return "".join(part[:1].upper() + part[1:] for part in str(op.function_name).split("_"))
    return type(op).__name__


# ---- the graph -----------------------------------------------------------------------------------------------


def _graph(model):
    """For a functional model: its operations in Keras's order (layers and ops, by decreasing depth) and its
    nodes grouped by depth, as Keras's ``Functional._operations`` and ``_nodes_by_depth``."""
    from lamina.models.layer_order import keras_layer_order

    inputs, outputs = list(model.inputs), list(model.outputs)
    input_ids = {id(t) for t in inputs}
    finished, in_progress, post_order = set(), set(), []

    def visit(tensor):
        hist = tensor._history
        if hist is None:
            return
        node = hist.node
        if id(node) in finished or id(node) in in_progress:
            return
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        post_order.append(node)

    for t in outputs:
        visit(t)
    node_depth, op_depth = {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), op_depth.get(id(node.operation), 0))
        op_depth[id(node.operation)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    by_depth = {}
    for node in post_order:
        by_depth.setdefault(node_depth[id(node)], []).append(node)
    nodes_by_depth = [by_depth[d] for d in sorted(by_depth, reverse=True)]

    operations, seen = [], set()
    for op in list(keras_layer_order(inputs, outputs)) + list(model.layers):
        if id(op) not in seen:
            seen.add(id(op))
            operations.append(op)
    return operations, nodes_by_depth


# ---- laying out the text as rich does ------------------------------------------------------------------------

_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")


def _divide_line(text, width, fold):
    """Where to break ``text`` to fit ``width`` (``rich._wrap.divide_line``)."""
    breaks, offset = [], 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        word_length = len(word.rstrip())
        if width - offset >= word_length:
            offset += len(word)
        elif word_length > width:
            if fold:
                pieces = [word[i:i + width] for i in range(0, len(word), width)] or [word]
                for i, piece in enumerate(pieces):
                    if start:
                        breaks.append(start)
                    if i == len(pieces) - 1:
                        offset = len(piece)
                    else:
                        start += len(piece)
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _truncate(line, width, overflow):
    if len(line) > width:
        if overflow == "ellipsis":
            return line[:max(width - 1, 0)].ljust(max(width - 1, 0)) + _ELLIPSIS
        return line[:width]
    return line


def _wrap(text, width, justify="default", overflow="ellipsis"):
    """``text`` word-wrapped to ``width`` (``rich.text.Text.wrap``): words longer than a line are cut with
    ``…`` (``overflow="ellipsis"``, table cells) or folded onto the next lines (``"fold"``, console text)."""
    lines = []
    for paragraph in str(text).split("\n"):
        breaks = _divide_line(paragraph, width, fold=overflow == "fold")
        bounds = [0] + breaks + [len(paragraph)]
        pieces = [paragraph[a:b] for a, b in zip(bounds, bounds[1:])] or [""]
        for line in pieces:
            if len(line) > width:  # rstrip_end: drop the spaces beyond the width
                m = _TRAILING_SPACE.search(line)
                if m:
                    line = line[:len(line) - min(len(m.group(0)), len(line) - width)]
            if justify == "left":
                line = _truncate(line, width, overflow).ljust(width)
            elif justify == "right":
                line = _truncate(line.rstrip(), width, overflow)
                line = " " * (width - len(line)) + line
            elif justify == "center":
                line = _truncate(line.rstrip(), width, overflow)
                line = " " * ((width - len(line)) // 2) + line
                line = line + " " * (width - len(line))
            lines.append(_truncate(line, width, overflow))
    return lines


def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining, result = total, []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _table_widths(column_widths, table_width):
    """The widths (padding included) rich gives fixed-width columns in a table of ``table_width`` characters."""
    max_width = table_width - (len(column_widths) + 1)
    widths = [(min(w + 2, max_width) if max_width >= 1 else 0) or 1 for w in column_widths]
    if sum(widths) > max_width:
        widths = _ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
        widths = [min(w + 2, width) if width >= 1 else 0 for w, width in zip(column_widths, widths)]
    if sum(widths) < max_width and sum(widths) > 0:  # a table given a width expands to it
        widths = [w + extra for w, extra in zip(widths, _ratio_distribute(max_width - sum(widths), widths))]
    return widths


def _ratio_distribute(total, ratios):
    total_ratio, remaining, result = sum(ratios), total, []
    for ratio in ratios:
        distributed = math.ceil(ratio * remaining / total_ratio) if total_ratio > 0 else remaining
        result.append(distributed)
        total_ratio -= ratio
        remaining -= distributed
    return result


def _render_table(header, alignment, rows, column_widths, table_width, box):
    widths = _table_widths(column_widths, table_width)

    def cell_lines(text, width, justify):
        inner = width - 2
        if inner < 1:
            return [" " * width]
        return [" " + line.ljust(inner)[:inner] + " " for line in _wrap(text, inner, justify, "ellipsis")]

    def render_row(cells, edge, bottom_align):
        columns = [cell_lines(c, w, a) for c, w, a in zip(cells, widths, alignment)]
        height = max(len(c) for c in columns)
        for i, (c, w) in enumerate(zip(columns, widths)):
            pad = [" " * w] * (height - len(c))
            columns[i] = pad + c if bottom_align else c + pad
        left, _, divider, right = edge
        return [left + divider.join(col[i] for col in columns) + right for i in range(height)]

    def rule(kind):
        left, fill, divider, right = box[kind]
        return left + divider.join(fill * w for w in widths) + right

    out = [rule("top")]
    out += render_row(header, box["head"], bottom_align=True)
    out.append(rule("head_row"))
    for i, row in enumerate(rows):
        if i:
            out.append(rule("row"))
        out += render_row(row, box["mid"], bottom_align=False)
    out.append(rule("bottom"))
    return out


def _console_width():
    """The width rich's console assumes: ``$COLUMNS``, else the terminal's, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns) or 80
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
        return width or 80
    return 80


def _ascii_only():
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower()
    return not encoding.startswith("utf")


def get_layer_index_bound_by_layer_name(layers, layer_range=None):
    """``[first, last + 1]``: the layers whose names match ``layer_range``'s two patterns (``re.match``)."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            f"Passed layer_names do not match the layer names in the model. Received: {layer_range}"
        )
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ---- the summary ---------------------------------------------------------------------------------------------


def summary_text(model, line_length=None, positions=None, expand_nested=False, show_trainable=False,
                 layer_range=None):
    """The text ``print_summary`` prints (ending with a newline)."""
    from lamina.models.functional import Functional

    relevant_nodes = None
    if isinstance(model, Functional):
        layers, nodes_by_depth = _graph(model)
        sequential_like = True
        nodes = []
        for group in nodes_by_depth:
            if len(group) > 1 or (len(group) == 1 and len(group[0].input_tensors) > 1):
                sequential_like = False
                break
            nodes += group
        if sequential_like:  # a layer called twice in the model (shared) makes it a graph
            node_ids = {id(n) for n in nodes}
            for layer in model.layers:
                if sum(id(n) in node_ids for n in layer._inbound_nodes) > 1:
                    sequential_like = False
                    break
        relevant_nodes = {id(n) for group in nodes_by_depth for n in group}
    else:  # Sequential, and subclassed models: a list of layers
        layers = list(model.layers)
        sequential_like = True

    if sequential_like:
        default_line_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")

    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    column_widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        column_widths.append(width)
        current += width

    def connections(layer):
        parts = []
        for node in layer._inbound_nodes:
            if relevant_nodes and id(node) not in relevant_nodes:
                continue  # a call of the layer in another model
            for t in node.input_tensors:
                hist = t._history
                if hist is not None:
                    parts.append(f"{hist.operation.name}[{hist.node_index}][{hist.tensor_index}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix):
        name = f"{prefix}{layer.name} ({_class_name(layer)})"
        if not hasattr(layer, "built"):
            params = "0"
        elif not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{count_params(layer.weights):,}"
        row = [name, format_layer_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            if len(getattr(layer, "weights", ())) > 0:
                row.append("Y" if layer.trainable else "N")
            else:
                row.append("-")
        return row

    def layer_rows(layer, level=0):
        rows = [fields(layer, "   " * level + "└ " if level else "")]
        if expand_nested and getattr(layer, "layers", None):
            for inner in layer.layers:
                rows += layer_rows(inner, level + 1)
        return rows

    first, last = get_layer_index_bound_by_layer_name(layers, layer_range)
    rows = [row for layer in layers[first:last] for row in layer_rows(layer)]

    trainable = getattr(model, "_collected_trainable_weights", None)
    trainable = list(model.trainable_weights) if trainable is None else list(trainable)
    non_trainable = list(model.non_trainable_weights)
    optimizer = getattr(model, "optimizer", None)
    if getattr(model, "compiled", False) and optimizer is not None and getattr(optimizer, "built", False):
        optimizer_vars = list(optimizer.variables)
    else:
        optimizer_vars = None
    counts = [count_params(trainable), count_params(non_trainable)]
    sizes = [weight_memory_size(trainable), weight_memory_size(non_trainable)]
    if optimizer_vars is not None:
        counts.append(count_params(optimizer_vars))
        sizes.append(weight_memory_size(optimizer_vars))

    console_width = _console_width()
    ascii_only = _ascii_only()
    table = _render_table(header, alignment, rows, column_widths, line_length, _ASCII if ascii_only else _HEAVY_HEAD)

    def text_lines(text):  # console.print of a line of text: wrapped (long words folded) to the console
        return _wrap(text, console_width, justify="default", overflow="fold")

    out = text_lines(f'Model: "{model.name}"')
    out += [line[:console_width] for line in table]  # rich crops what is wider than the console
    labels = [" Total params: ", " Trainable params: ", " Non-trainable params: ", " Optimizer params: "]
    totals = [(sum(counts), sum(sizes))] + list(zip(counts, sizes))
    for label, (count, size) in zip(labels, totals):
        out += text_lines(f"{label}{count:,} ({readable_memory_size(size)})")
    text = "\n".join(out) + "\n"
    if ascii_only:
        text = text.replace(_ELLIPSIS, "~")
    return text


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    """Print the summary of ``model`` as Keras 3 does (see ``Model.summary``).

    The whole table is one string ending with a newline: ``print_fn(text)`` is called once with it, as Keras
    does; without ``print_fn`` the text goes to standard output, or to the ``"lamina"`` logger when
    interactive logging is disabled.
    """
    from lamina.utils import io_utils

    if not print_fn and not io_utils.is_interactive_logging_enabled():
        print_fn = io_utils.print_msg
    text = summary_text(model, line_length=line_length, positions=positions, expand_nested=expand_nested,
                        show_trainable=show_trainable, layer_range=layer_range)
    if not print_fn:
        sys.stdout.write(text)
        sys.stdout.flush()
    elif print_fn is io_utils.print_msg:
        print_fn(text, line_break=False)
    else:
        print_fn(text)
