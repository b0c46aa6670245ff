"""Keras 3's order of a functional model's layers.

Keras lists a functional model's layers by decreasing depth (longest path to an output), ties broken by the
order a depth-first walk from the outputs first meets them. Keras 3 ``.weights.h5`` files key layers by class
name and position in that list, so ``Functional`` lists its layers the same way to read them (call order
differs for branched graphs, e.g. ResNet's shortcut convolutions).
"""


def keras_layer_order(inputs, outputs):
    """The operations of the graph from ``inputs`` to ``outputs``, in Keras 3's order."""
    input_ids = {id(t) for t in inputs}
    index, finished, in_progress, post_order = {}, set(), set(), []

    def visit(tensor):
        node = tensor._history.node
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError("The layer graph has a cycle.")
        index.setdefault(id(node.operation), len(index))
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        post_order.append(node)

    for t in outputs:
        visit(t)
    node_depth, op_depth, ops = {}, {}, {}
    for node in reversed(post_order):
        op = node.operation
        depth = max(node_depth.setdefault(id(node), 0), op_depth.get(id(op), 0))
        op_depth[id(op)] = depth
        ops[id(op)] = op
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        op = t._history.operation
        if id(op) not in op_depth:  # an input no output depends on
            op_depth[id(op)], ops[id(op)] = 0, op
            index[id(op)] = -1
    by_depth = {}
    for key, depth in op_depth.items():
        by_depth.setdefault(depth, []).append(ops[key])
    ordered = []
    for depth in sorted(by_depth, reverse=True):
        ordered.extend(sorted(by_depth[depth], key=lambda op: index[id(op)]))
    return ordered
