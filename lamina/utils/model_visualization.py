"""``plot_model`` and ``model_to_dot``: a model's layer graph in Graphviz's DOT language, as Keras draws it.

lamina writes the DOT text itself, so ``model_to_dot`` and ``plot_model(model, "model.dot")`` need nothing
installed. Pictures (``"model.png"``, ``.svg``, ``.pdf``, ...) are drawn by Graphviz's ``dot`` program
(``apt install graphviz``, ``brew install graphviz``, ``conda install graphviz``); pydot is not needed, and
when it is installed ``model_to_dot`` returns a ``pydot.Dot`` as Keras does.
"""

import html
import os
import re
import shutil
import subprocess

_HEADER_BG = "black"


def _who(fn):
    return f"lamina.utils.{fn}"


def _camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _class_name(op):
    fn = getattr(op, "fn", None)  # an op called on symbolic tensors (lamina.ops.relu, x + y, ...)
    if fn is not None and type(op).__name__ == "FunctionOperation":
        return _camel(getattr(fn, "__name__", "Operation"))
    return type(op).__name__


def _fmt_shapes(shapes):
    if not shapes:
        return None
    out = [tuple(s) for s in shapes]
    return str(out[0]) if len(out) == 1 else "[" + ", ".join(str(s) for s in out) + "]"


def _shapes_of(op, which):
    """The input or output shapes of ``op`` over its calls: one string, ``"multiple"`` when the calls differ."""
    seen = []
    for node in getattr(op, "_inbound_nodes", []):
        tensors = node.input_tensors if which == "input" else node.output_tensors
        s = _fmt_shapes([t.shape for t in tensors])
        if s is not None and s not in seen:
            seen.append(s)
    if not seen:
        return None
    return seen[0] if len(seen) == 1 else "multiple"


def _out_dtype(op):
    for node in getattr(op, "_inbound_nodes", []):
        dtypes = [str(t.dtype) for t in node.output_tensors]
        if dtypes:
            return dtypes[0] if len(set(dtypes)) == 1 else "[" + ", ".join(dtypes) + "]"
    return None


def _activation_name(op):
    act = getattr(op, "activation", None)
    if act is None or not callable(act):
        return None
    from lamina import activations

    try:
        name = activations.serialize(act)
    except Exception:  # a custom callable the registry cannot name: its own name
        name = getattr(act, "__name__", type(act).__name__)
    return name if isinstance(name, str) else (name.get("class_name") or str(name))


def _cell(text, colspan=None, bg="white", color=None, size=14):
    span = f' colspan="{colspan}"' if colspan else ""
    font = f'<font point-size="{size}"' + (f' color="{color}"' if color else "") + ">"
    return f'<td bgcolor="{bg}"{span}>{font}{text}</font></td>'


def _label(op, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable):
    cls = html.escape(_class_name(op))
    title = f"<b>{html.escape(op.name)}</b> ({cls})" if show_layer_names else f"<b>{cls}</b>"
    info = []
    if show_shapes:
        ins = _shapes_of(op, "input")
        outs = _shapes_of(op, "output")
        if ins is not None and type(op).__name__ != "InputLayer":
            info.append(_cell(f"Input shape: <b>{html.escape(ins)}</b>"))
        if outs is not None:
            info.append(_cell(f"Output shape: <b>{html.escape(outs)}</b>"))
    if show_dtype:
        dt = _out_dtype(op)
        if dt is not None:
            info.append(_cell(f"Output dtype: <b>{html.escape(dt)}</b>"))
    if show_trainable and getattr(op, "weights", None):
        info.append(_cell("<b>Trainable</b>", bg="forestgreen", color="white") if op.trainable
                    else _cell("<b>Non-trainable</b>", bg="firebrick", color="white"))
    width = max(len(info), 1)
    rows = [f"<tr>{_cell(title, colspan=width, bg=_HEADER_BG, color='white', size=16)}</tr>"]
    if show_layer_activations:
        act = _activation_name(op)
        if act is not None:
            rows.append(f"<tr>{_cell(f'Activation: <b>{html.escape(act)}</b>', colspan=width)}</tr>")
    if info:
        rows.append("<tr>" + "".join(info) + "</tr>")
    table = '<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>"
    return f"<{table}>"


class _Graph:
    """The nodes, edges and clusters of one drawing, with stable node ids (``n0``, ``n1``, ...)."""

    def __init__(self, options):
        self.options = options
        self.ids = {}
        self.lines = []

    def node_id(self, op):
        key = id(op)
        if key not in self.ids:
            self.ids[key] = f"n{len(self.ids)}"
        return self.ids[key]

    def add_node(self, op, indent):
        self.lines.append(f"{indent}{self.node_id(op)} [label={_label(op, **self.options)}, fontname=Helvetica, "
                          "border=0, margin=0];")


def _is_model(op):
    from lamina.models.model import Model

    return isinstance(op, Model)


def _graph_of(model):
    """``(operations in order, edges (producer, consumer))`` of ``model``'s own graph (not nested ones)."""
    from lamina.models.sequential import Sequential

    steps = getattr(model, "_steps", None)
    if steps is None:
        ops = list(model.layers)
        if isinstance(model, Sequential):  # its layers, one after another
            return ops, list(zip(ops, ops[1:]))
        # A subclassed model: its call() is Python code with no recorded graph; its layers, unconnected.
        return ops, []
    ops, edges, seen = [], [], set()

    def add(op):
        if id(op) not in seen:
            seen.add(id(op))
            ops.append(op)

    for t in model.inputs:
        add(t._history.operation)
    for step in steps:
        add(step.operation)
        for t in step.node.input_tensors:
            if t._history is not None:
                edges.append((t._history.operation, step.operation))
    return ops, edges


def _entry_exit(model):
    """The operations of a nested model that take its inputs and that give its outputs (for edges across)."""
    ops, edges = _graph_of(model)
    ops = [op for op in ops if type(op).__name__ != "InputLayer"]
    if not ops:
        return [], []
    has_in = {id(b) for a, b in edges if type(a).__name__ != "InputLayer"}
    has_out = {id(a) for a, _ in edges}
    entry = [op for op in ops if id(op) not in has_in]
    exits = [op for op in ops if id(op) not in has_out]
    return entry, exits


def _draw(model, graph, expand_nested, indent, layer_range=None):
    ops, edges = _graph_of(model)
    if layer_range is not None:
        keep = {id(op) for op in ops[layer_range[0]:layer_range[1]]}
        ops = [op for op in ops if id(op) in keep]
        edges = [(a, b) for a, b in edges if id(a) in keep and id(b) in keep]
    ends = {}
    for op in ops:
        if expand_nested and _is_model(op) and op.built:
            graph.lines.append(f"{indent}subgraph cluster_{graph.node_id(op)} {{")
            graph.lines.append(f'{indent}  label="{html.escape(op.name)}";')
            graph.lines.append(f"{indent}  style=dashed;")
            _draw(op, graph, expand_nested, indent + "  ")
            graph.lines.append(f"{indent}}}")
            ends[id(op)] = _entry_exit(op)
        else:
            graph.add_node(op, indent)
    done = set()
    for a, b in edges:
        sources = ends[id(a)][1] if id(a) in ends else [a]
        targets = ends[id(b)][0] if id(b) in ends else [b]
        for s in sources:
            for t in targets:
                key = (graph.node_id(s), graph.node_id(t))
                if key not in done:
                    done.add(key)
                    graph.lines.append(f"{indent}{key[0]} -> {key[1]} [penwidth=2];")


def _resolve_range(model, layer_range, who):
    """Keras 2's ``layer_range=[first, last]``: two layer-name patterns; the layers from the first match of
    ``first`` to the first match of ``last`` (both included) are drawn."""
    if layer_range is None:
        return None
    if not (isinstance(layer_range, (list, tuple)) and len(layer_range) == 2
            and all(isinstance(p, str) for p in layer_range)):
        raise ValueError(f"{who}: layer_range must be a list of two layer-name patterns [first, last], but "
                         f"received layer_range={layer_range!r}.")
    names = [op.name for op in _graph_of(model)[0]]
    idx = []
    for pattern in layer_range:
        hits = [i for i, n in enumerate(names) if re.match(pattern, n)]
        if not hits:
            raise ValueError(f"{who}: layer_range pattern {pattern!r} matches none of the model's layers "
                             f"{names}.")
        idx.append(hits[0])
    if idx[1] < idx[0]:
        raise ValueError(f"{who}: layer_range {layer_range!r} ends (at {names[idx[1]]!r}) before it starts "
                         f"(at {names[idx[0]]!r}).")
    return idx[0], idx[1] + 1


def _check_model(model, who):
    from lamina.models.model import Model

    if not isinstance(model, Model):
        raise ValueError(f"{who} expects a lamina Model (Sequential, functional or subclassed), but received "
                         f"{type(model).__name__}: {model!r}.")
    if not model.built or (getattr(model, "_steps", None) is None and not model.layers):
        raise ValueError(f"{who}: the model '{model.name}' has not been built yet, so its layers and shapes are "
                         "unknown. Build it first: give it an Input (keras.Input(shape)), call it on a batch of "
                         "data, or call model.build(input_shape).")


def _dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi, subgraph,
              show_layer_activations, show_trainable, splines, layer_range, who):
    _check_model(model, who)
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"{who}: rankdir must be 'TB' (top to bottom) or 'LR' (left to right), but received "
                         f"rankdir={rankdir!r}.")
    if not isinstance(dpi, (int, float)) or isinstance(dpi, bool) or dpi <= 0:
        raise ValueError(f"{who}: dpi must be a positive number, but received dpi={dpi!r}.")
    rng = _resolve_range(model, layer_range, who)
    graph = _Graph(dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                        show_layer_activations=show_layer_activations, show_trainable=show_trainable))
    if subgraph:
        head = [f"subgraph cluster_{re.sub(r'[^A-Za-z0-9_]', '_', model.name)} {{",
                f'  label="{html.escape(model.name)}";', "  style=dashed;"]
    else:
        head = ["digraph G {", f"  rankdir={rankdir};", "  concentrate=true;", f"  dpi={dpi};",
                f"  splines={splines};", "  node [shape=record];"]
    _draw(model, graph, expand_nested, "  ", rng)
    return "\n".join(head + graph.lines + ["}"]) + "\n"


class DotGraph:
    """A model's drawing as DOT text, returned by ``model_to_dot`` when pydot is not installed.

    ``to_string()`` gives the text; ``write(path, format=...)`` / ``create(format=...)`` (and
    ``write_png(path)``, ``create_svg()``, ...) run Graphviz's ``dot`` program, as pydot's ``Dot`` does.
    ``format="raw"`` (the default of ``write``) writes the DOT text itself and needs nothing installed.
    """

    def __init__(self, text):
        self._text = text

    def to_string(self):
        return self._text

    __str__ = to_string

    def create(self, prog="dot", format="ps", encoding=None):
        """The picture as bytes, drawn by Graphviz's ``prog`` (``dot``, ``neato``, ...) in ``format``."""
        if format == "raw":
            return self._text.encode(encoding or "utf-8")
        return _run_graphviz(self._text, prog or "dot", format, "DotGraph.create")

    def write(self, path, prog="dot", format="raw", encoding=None):
        """Write the DOT text (``format="raw"``) or a picture drawn by Graphviz to ``path``."""
        data = self.create(prog=prog, format=format, encoding=encoding)
        with open(path, "wb") as f:
            f.write(data)
        return True

    def __getattr__(self, name):
        if name.startswith("write_") or name.startswith("create_"):
            kind, fmt = name.split("_", 1)
            if kind == "write":
                return lambda path, prog="dot", encoding=None: self.write(path, prog, fmt, encoding)
            return lambda prog="dot", encoding=None: self.create(prog, fmt, encoding)
        raise AttributeError(f"'DotGraph' object has no attribute {name!r}")


def _run_graphviz(text, prog, fmt, who):
    exe = shutil.which(prog)
    if exe is None:
        raise ImportError(
            f"{who}: drawing a picture ({fmt}) needs Graphviz's '{prog}' program, which was not found on PATH. "
            "Install Graphviz (apt install graphviz, brew install graphviz, or conda install graphviz), or write "
            "the graph as DOT text, which needs nothing installed: plot_model(model, to_file='model.dot').")
    done = subprocess.run([exe, f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{who}: Graphviz's '{prog} -T{fmt}' failed (exit {done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def _unknown_kwargs(who, kwargs):
    if kwargs:
        raise ValueError(f"{who} got unexpected keyword arguments {sorted(kwargs)}. It accepts show_shapes, "
                         "show_dtype, show_layer_names, rankdir, expand_nested, dpi, show_layer_activations, "
                         "show_trainable, splines and layer_range.")


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """The graph of ``model``'s layers in Graphviz's DOT language.

    One box per layer (its name and class, and on request its input/output shapes, output dtype, activation
    and whether it is trainable), one arrow per connection. Nested models are one box, or with
    ``expand_nested=True`` a dashed cluster of their own layers.

    Args:
        model: a built ``Model``.
        show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable: what the boxes show.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        expand_nested: draw nested models' layers.
        dpi: the picture's dots per inch.
        subgraph: return a cluster to embed in another graph instead of a whole graph.
        splines: Graphviz's edge style (``"ortho"``, ``"spline"``, ...).
        layer_range: (Keras 2) ``[first, last]`` layer-name patterns: draw only that stretch of layers.

    Returns:
        A ``pydot.Dot`` when pydot is installed (as Keras), otherwise a ``DotGraph`` with the same
        ``to_string``/``write``/``create`` methods.

    Example:
    >>> import lamina
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2, name="out")])
    >>> text = lamina.utils.model_to_dot(model, show_shapes=True).to_string()
    >>> "<b>out</b> (Dense)" in text and "Output shape: <b>(None, 2)</b>" in text
    True
    """
    who = _who("model_to_dot")
    layer_range = kwargs.pop("layer_range", None)
    _unknown_kwargs(who, kwargs)
    text = _dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi, subgraph,
                     show_layer_activations, show_trainable, splines, layer_range, who)
    if not subgraph:
        try:
            import pydot
        except ImportError:
            pydot = None
        if pydot is not None:
            graphs = pydot.graph_from_dot_data(text)
            if graphs:
                return graphs[0]
    return DotGraph(text)


_RAW = {"dot", "gv"}


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               splines="ortho", **kwargs):
    """Draw ``model``'s layer graph to ``to_file``; the file's extension picks the format.

    ``.dot``/``.gv`` write the DOT text (nothing needs to be installed); ``.png``, ``.svg``, ``.pdf``,
    ``.jpg``, ... are drawn by Graphviz's ``dot`` program. In IPython/Jupyter the picture is returned for
    display (an ``IPython.display.Image``), as Keras does; otherwise None.

    Args: as ``model_to_dot`` (``show_layer_names`` defaults to False here, as in Keras 3), and
        to_file: the file to write.

    Example:
    >>> import lamina, os, tempfile
    >>> model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.dot")
    >>> lamina.utils.plot_model(model, to_file=path, show_shapes=True)
    >>> open(path).read().startswith("digraph G {")
    True
    """
    who = _who("plot_model")
    layer_range = kwargs.pop("layer_range", None)
    _unknown_kwargs(who, kwargs)
    to_file = os.fspath(to_file)
    ext = os.path.splitext(to_file)[1][1:].lower()
    if not ext:
        raise ValueError(f"{who}: to_file needs an extension naming the format (.png, .svg, .pdf, .dot, ...), "
                         f"but received to_file={to_file!r}.")
    text = _dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi, False,
                     show_layer_activations, show_trainable, splines, layer_range, who)
    data = text.encode("utf-8") if ext in _RAW else _run_graphviz(text, "dot", ext, who)
    folder = os.path.dirname(os.path.abspath(to_file))
    os.makedirs(folder, exist_ok=True)
    with open(to_file, "wb") as f:
        f.write(data)
    if ext in _RAW or ext == "pdf":
        return None
    try:
        from IPython import get_ipython
        from IPython.display import Image
    except ImportError:
        return None
    return Image(filename=to_file) if get_ipython() is not None else None
