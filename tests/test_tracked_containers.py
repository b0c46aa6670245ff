"""Layers, variables and seed generators that a user's layer or model puts into a list or dict attribute after
setting it (append, extend, insert, item assignment, +=, nested containers) are tracked, as Keras tracks them:
their weights are the model's and fit trains them."""

import copy
import pickle

import numpy as np

import lamina


class _Filled(lamina.Model):
    def __init__(self):
        super().__init__()
        self.hidden = []
        for _ in range(2):
            self.hidden.append(lamina.layers.Dense(3))
        self.more = []
        self.more.extend([lamina.layers.Dense(3)])
        self.more.insert(0, lamina.layers.Dense(3))
        self.heads = {}
        self.heads["out"] = lamina.layers.Dense(1)

    def call(self, x):
        for layer in self.hidden + self.more:
            x = layer(x)
        return self.heads["out"](x)


def test_layers_appended_to_empty_containers_are_tracked_and_trained():
    model = _Filled()
    model(np.ones((1, 4), "float32"))
    assert len(model.layers) == 5
    assert len(model.trainable_weights) == 10
    x = np.random.RandomState(0).normal(size=(32, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    before = [np.array(w) for w in model.get_weights()]
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    after = model.get_weights()
    assert all(not np.allclose(a, b) for a, b in zip(before, after))  # every layer's weights moved


def test_nested_containers_and_item_assignment_are_tracked():
    class Nested(lamina.layers.Layer):
        def __init__(self):
            super().__init__()
            self.stages = [[lamina.layers.Dense(2)], {"x": lamina.layers.Dense(2)}]
            self.grid = [[]]
            self.grid[0].append(lamina.layers.Dense(2))
            self.slots = [None, None]
            self.slots[1] = lamina.layers.Dense(2)
            self.table = {}
            self.table.setdefault("a", lamina.layers.Dense(2))
            self.table.update(b=lamina.layers.Dense(2))
            self.more = {}
            self.more |= {"c": lamina.layers.Dense(2)}
            self.var_list = []

        def build(self, input_shape):
            self.var_list += [self.add_weight(shape=(2,), name="extra")]

        def call(self, x):
            return x

    layer = Nested()
    for inner in (layer.stages[0][0], layer.stages[1]["x"], layer.grid[0][0], layer.slots[1],
                  layer.table["a"], layer.table["b"], layer.more["c"]):
        inner.build((None, 3))
    layer.build((None, 3))
    assert len(layer._layers) == 7
    assert len(layer.weights) == 7 * 2 + 1


def test_tracked_containers_still_behave_as_lists_and_dicts():
    class Holder(lamina.layers.Layer):
        def __init__(self):
            super().__init__()
            self.numbers = []
            self.options = {}

        def call(self, x):
            return x

    layer = Holder()
    layer.numbers.append(1)
    layer.numbers += [2, 3]
    layer.options["k"] = "v"
    assert layer.numbers == [1, 2, 3] and isinstance(layer.numbers, list)
    assert layer.options == {"k": "v"} and isinstance(layer.options, dict)
    assert not layer._layers and not layer.weights
    assert type(pickle.loads(pickle.dumps(layer.numbers))) is list
    assert copy.deepcopy(layer.options) == {"k": "v"}


def test_tracked_list_model_saves_and_loads(tmp_path):
    model = _Filled()
    x = np.random.RandomState(1).normal(size=(4, 4)).astype("float32")
    expected = lamina.ops.convert_to_numpy(model(x))
    path = str(tmp_path / "filled.weights.h5")
    model.save_weights(path)
    other = _Filled()
    other(x)
    other.load_weights(path)
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(other(x)), expected, rtol=1e-6, atol=1e-6)


def test_unnamed_weights_get_distinct_names_as_keras():
    class TwoWeights(lamina.layers.Layer):
        def build(self, input_shape):
            self.a = self.add_weight(shape=(2,))
            self.b = self.add_weight(shape=(2,))

        def call(self, x):
            return x

    layer = TwoWeights()
    layer.build((None, 2))
    names = [w.name for w in layer.weights]
    assert len(set(names)) == 2 and all(n.startswith("variable") for n in names)
    assert len({w.path for w in layer.weights}) == 2
