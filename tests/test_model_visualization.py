"""``lamina.utils.model_to_dot`` / ``plot_model``: the DOT text (nodes, labels, edges, nested clusters),
the files written, and Graphviz's ``dot`` run for pictures (a stand-in ``dot`` on PATH checks the call; the
real one, where installed, checks the text is valid DOT)."""

import os
import re
import shutil
import stat
import sys
import types

import pytest

import lamina
from lamina import layers
from lamina.utils import model_to_dot, plot_model


def _labels(text):
    """{node id: label text} of a DOT graph written by model_to_dot."""
    return dict(re.findall(r"^\s*(n\d+) \[label=<(.*)>, fontname", text, flags=re.M))


def _edges(text):
    return re.findall(r"^\s*(n\d+) -> (n\d+) \[", text, flags=re.M)


def _name_of(label):
    m = re.search(r"<b>([^<]+)</b> \(", label)
    return m.group(1) if m else re.search(r"<b>([^<]+)</b>", label).group(1)


def _named_edges(text):
    names = {k: _name_of(v) for k, v in _labels(text).items()}
    return sorted((names[a], names[b]) for a, b in _edges(text))


def _two_input_model():
    a = lamina.Input((4,), name="a")
    b = lamina.Input((4,), name="b")
    s = layers.Add(name="sum")([a, b])
    h = layers.Dense(3, activation="relu", name="hidden")(s)
    frozen = layers.Dense(2, name="frozen")
    frozen.trainable = False
    out = frozen(h)
    return lamina.Model([a, b], [lamina.ops.relu(out), h])


def test_functional_graph_nodes_edges_and_labels():
    text = model_to_dot(_two_input_model(), show_shapes=True, show_dtype=True, show_layer_activations=True,
                        show_trainable=True).to_string()
    assert text.startswith("digraph G {") and text.rstrip().endswith("}")
    labels = {_name_of(v): v for v in _labels(text).values()}
    assert set(labels) == {"a", "b", "sum", "hidden", "frozen", "relu"}
    assert _named_edges(text) == sorted([("a", "sum"), ("b", "sum"), ("sum", "hidden"), ("hidden", "frozen"),
                                         ("frozen", "relu")])
    assert "(InputLayer)" in labels["a"] and "Input shape" not in labels["a"]
    assert "Output shape: <b>(None, 4)</b>" in labels["a"]
    assert "Input shape: <b>[(None, 4), (None, 4)]</b>" in labels["sum"]
    assert "Output shape: <b>(None, 3)</b>" in labels["hidden"] and "Activation: <b>relu</b>" in labels["hidden"]
    assert "Activation: <b>linear</b>" in labels["frozen"]
    assert "Output dtype: <b>float32</b>" in labels["frozen"]
    assert "<b>Trainable</b>" in labels["hidden"] and "<b>Non-trainable</b>" in labels["frozen"]
    assert "Trainable" not in labels["sum"]  # no weights, no badge
    assert "(Relu)" in labels["relu"]  # an op called on symbolic tensors: its name and op class


def test_what_the_boxes_show_follows_the_switches():
    text = model_to_dot(_two_input_model(), show_layer_names=False).to_string()
    labels = list(_labels(text).values())
    assert not any("shape" in v or "dtype" in v or "Activation" in v or "Trainable" in v for v in labels)
    assert any("<b>Dense</b>" in v for v in labels) and not any("hidden" in v for v in labels)
    assert "rankdir=LR;" in model_to_dot(_two_input_model(), rankdir="LR", dpi=72).to_string()
    assert "dpi=72;" in model_to_dot(_two_input_model(), dpi=72).to_string()


def test_sequential_is_a_chain_and_a_subclassed_model_has_no_invented_edges():
    seq = lamina.Sequential([lamina.Input((5,)), layers.Dense(4, name="d1"), layers.Dropout(0.1, name="drop"),
                             layers.Dense(1, name="d2")])
    text = model_to_dot(seq, show_shapes=True).to_string()
    assert _named_edges(text) == sorted([("d1", "drop"), ("drop", "d2")])
    assert "Output shape: <b>(None, 1)</b>" in text

    class Sub(lamina.Model):
        def __init__(self):
            super().__init__()
            self.one = layers.Dense(3, name="one")
            self.two = layers.Dense(1, name="two")

        def call(self, x):
            return self.two(self.one(x))

    sub = Sub()
    sub(lamina.ops.ones((2, 4)))
    text = model_to_dot(sub).to_string()
    assert {_name_of(v) for v in _labels(text).values()} == {"one", "two"} and _edges(text) == []


def test_nested_model_is_one_box_or_a_cluster_with_edges_across():
    inner = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, name="i1"), layers.Dense(3, name="i2")],
                              name="inner")
    x = lamina.Input((4,), name="x")
    out = layers.Dense(1, name="head")(inner(x))
    model = lamina.Model(x, out)
    flat = model_to_dot(model).to_string()
    assert _named_edges(flat) == sorted([("x", "inner"), ("inner", "head")]) and "cluster" not in flat
    nested = model_to_dot(model, expand_nested=True).to_string()
    assert "subgraph cluster_" in nested and 'label="inner";' in nested
    assert _named_edges(nested) == sorted([("x", "i1"), ("i1", "i2"), ("i2", "head")])
    sub = model_to_dot(inner, subgraph=True).to_string()
    assert sub.startswith("subgraph cluster_inner {")


def test_keras2_layer_range_draws_a_stretch_of_layers():
    seq = lamina.Sequential([lamina.Input((5,)), layers.Dense(4, name="d1"), layers.Dense(3, name="d2"),
                             layers.Dense(2, name="d3"), layers.Dense(1, name="d4")])
    text = model_to_dot(seq, layer_range=["d2", "d3"]).to_string()
    assert _named_edges(text) == [("d2", "d3")]
    with pytest.raises(ValueError, match=r"model_to_dot: layer_range pattern 'nope' matches none"):
        model_to_dot(seq, layer_range=["nope", "d3"])
    with pytest.raises(ValueError, match=r"ends \(at 'd1'\) before it starts \(at 'd3'\)"):
        model_to_dot(seq, layer_range=["d3", "d1"])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"model_to_dot expects a lamina Model.*Dense"):
        model_to_dot(layers.Dense(2))
    with pytest.raises(ValueError, match=r"has not been built yet.*keras.Input"):
        model_to_dot(lamina.Sequential([layers.Dense(2)]))
    seq = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"rankdir must be 'TB'.*'BT'"):
        model_to_dot(seq, rankdir="BT")
    with pytest.raises(ValueError, match=r"dpi must be a positive number.*-3"):
        model_to_dot(seq, dpi=-3)
    with pytest.raises(ValueError, match=r"plot_model got unexpected keyword arguments \['show_shape'\]"):
        plot_model(seq, "m.dot", show_shape=True)
    with pytest.raises(ValueError, match=r"to_file needs an extension"):
        plot_model(seq, "model")


def test_plot_model_writes_dot_text_with_nothing_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no Graphviz reachable
    seq = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="out")])
    path = tmp_path / "sub" / "model.dot"
    assert plot_model(seq, to_file=path, show_shapes=True) is None
    text = path.read_text()
    assert text == model_to_dot(seq, show_shapes=True, show_layer_names=False).to_string()
    assert "Output shape: <b>(None, 2)</b>" in text
    with pytest.raises(ImportError, match=r"needs Graphviz's 'dot' program.*to_file='model.dot'"):
        plot_model(seq, to_file=tmp_path / "model.png")
    assert not (tmp_path / "model.png").exists()


def _fake_dot(folder):
    """A stand-in ``dot`` that records its arguments and answers with b"PIC" + the DOT text it was given."""
    folder.mkdir()
    exe = folder / "dot"
    exe.write_text(f"#!{sys.executable}\nimport sys\nopen({str(folder / 'args')!r}, 'w').write(' '.join(sys.argv[1:]))"
                   "\nsys.stdout.buffer.write(b'PIC' + sys.stdin.buffer.read())\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.mark.skipif(os.name == "nt", reason="the stand-in dot program is a POSIX script")
def test_pictures_are_drawn_by_graphviz_dot(tmp_path, monkeypatch):
    folder = _fake_dot(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(folder))
    seq = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="out")])
    plot_model(seq, to_file=tmp_path / "model.svg", show_shapes=True)
    assert (folder / "args").read_text() == "-Tsvg"
    data = (tmp_path / "model.svg").read_bytes()
    assert data.startswith(b"PIC") and b"Output shape: <b>(None, 2)</b>" in data
    graph = model_to_dot(seq)
    assert type(graph).__name__ == "DotGraph"  # pydot is not a dependency
    assert graph.create_png() == b"PIC" + graph.to_string().encode()
    assert (folder / "args").read_text() == "-Tpng"
    graph.write(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == graph.to_string()


def test_a_failing_dot_is_reported(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    exe = folder / "dot"
    exe.write_text("#!/bin/sh\necho 'Format: \"zzz\" not recognized' >&2\nexit 1\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(folder))
    seq = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    with pytest.raises(RuntimeError, match=r"'dot -Tzzz' failed \(exit 1\): Format: \"zzz\" not recognized"):
        plot_model(seq, to_file=tmp_path / "model.zzz")


def test_pydot_is_used_when_installed(monkeypatch):
    seen = {}

    def graph_from_dot_data(text):
        seen["text"] = text
        return ["a pydot.Dot"]

    monkeypatch.setitem(sys.modules, "pydot", types.SimpleNamespace(graph_from_dot_data=graph_from_dot_data))
    seq = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="out")])
    assert model_to_dot(seq) == "a pydot.Dot"
    assert "<b>out</b> (Dense)" in seen["text"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed here")
def test_real_graphviz_accepts_the_text(tmp_path):
    inner = lamina.Sequential([lamina.Input((4,)), layers.Dense(3), layers.Dense(3)], name="inner")
    x = lamina.Input((4,))
    model = lamina.Model(x, layers.Dense(1)(inner(x)))
    plot_model(model, to_file=tmp_path / "m.png", expand_nested=True, show_shapes=True, show_dtype=True,
               show_layer_activations=True, show_trainable=True, dpi=40)
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
