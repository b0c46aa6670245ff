"""A model's serving signature: input/output names, shapes and dtypes, request parsing and replies.

The JSON shapes follow TensorFlow Serving's REST API:

* row format: ``{"instances": [row, row, ...]}`` -> ``{"predictions": [...]}``; for a model with
  several (named) inputs each row is an object ``{"name": value, ...}``; for several outputs each
  prediction is an object ``{"name": value, ...}``.
* columnar format: ``{"inputs": batch}`` or ``{"inputs": {"name": batch, ...}}`` ->
  ``{"outputs": batch}`` or ``{"outputs": {"name": batch, ...}}``.
"""

import numpy as np

SIGNATURE_NAME = "serving_default"

# TensorFlow's DataType names, as TF Serving's metadata reports them.
_TF_DTYPES = {
    "float16": "DT_HALF", "bfloat16": "DT_BFLOAT16", "float32": "DT_FLOAT", "float64": "DT_DOUBLE",
    "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64",
    "uint8": "DT_UINT8", "uint16": "DT_UINT16", "uint32": "DT_UINT32", "uint64": "DT_UINT64",
    "bool": "DT_BOOL", "string": "DT_STRING",
}


class RequestError(ValueError):
    """A client's mistake in a request: the server answers it with HTTP 400 and this message."""


class TensorSpec:
    """The name, shape (``None`` for any size) and dtype of one model input or output."""

    def __init__(self, name, shape, dtype):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = str(dtype)

    def metadata(self):
        dims = [{"size": str(-1 if d is None else int(d)), "name": ""} for d in self.shape]
        return {"dtype": _TF_DTYPES.get(self.dtype, "DT_INVALID"),
                "tensor_shape": {"dim": dims, "unknown_rank": False}, "name": self.name}

    def check(self, value, where):
        """Return ``value`` (parsed JSON, a whole batch) as a NumPy array of this spec, or raise RequestError."""
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            raise RequestError(f"{where}: the values are ragged (nested lists of different lengths); "
                               f"expected a batch of shape {_shape_str(self.shape)}.") from None
        if self.dtype == "string":
            return self._check_strings(arr, where)
        if arr.dtype.kind not in "biuf" or (arr.dtype.kind == "b" and self.dtype != "bool"):
            what = {"b": "booleans", "U": "strings", "S": "strings"}.get(
                arr.dtype.kind, "null, nested-object or out-of-range values")
            raise RequestError(f"{where}: expected numbers for dtype {self.dtype}, but received {what}.")
        self._check_shape(arr, where)
        target = np.dtype(self.dtype) if self.dtype != "bfloat16" else np.float32
        if target.kind in "iu" and arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise RequestError(f"{where}: expected integers for dtype {self.dtype}, but received "
                                   f"non-integer numbers.")
        if target.kind in "iu":
            info = np.iinfo(target)
            if arr.size and (arr.min() < info.min or arr.max() > info.max):
                raise RequestError(f"{where}: values out of range for dtype {self.dtype}.")
        return arr.astype(target, copy=False)

    def _check_strings(self, arr, where):
        """A batch of text for a string input (TextVectorization, StringLookup... inside the model)."""
        if arr.dtype.kind != "U":
            what = "numbers" if arr.dtype.kind in "biuf" else "null, nested-object or ragged values"
            raise RequestError(f"{where}: expected strings for this text input, but received {what}.")
        self._check_shape(arr, where)
        return arr.astype(object)

    def _check_shape(self, arr, where):
        if arr.ndim != len(self.shape) or any(
                want is not None and got != want for got, want in zip(arr.shape[1:], self.shape[1:])):
            raise RequestError(f"{where}: expected a batch of shape {_shape_str(self.shape)}, but received "
                               f"shape {arr.shape}.")
        if arr.shape[0] == 0:
            raise RequestError(f"{where}: the batch is empty; send at least one instance.")


def _shape_str(shape):
    return "(" + ", ".join("batch" if i == 0 else ("any" if d is None else str(d))
                           for i, d in enumerate(shape)) + ")"


def _structure(model, attr, tensors):
    """(names, kind) for the model's inputs or outputs: kind is "dict", "list" or "single"."""
    try:
        struct = getattr(model, attr)
    except (AttributeError, ValueError):
        struct = None
    if isinstance(struct, dict):
        return list(struct), [struct[k] for k in struct], "dict"
    names = []
    for i, t in enumerate(tensors):
        history = getattr(t, "_history", None)
        name = getattr(history.operation, "name", None) if history is not None else None
        names.append(name if name and name not in names else f"{attr}_{i}")
    return names, list(tensors), ("single" if len(tensors) == 1 else "list")


class Signature:
    """What a model takes and returns, and the conversions between JSON and arrays.

    Args:
        model: a built Functional or Sequential model (one with ``model.inputs``/``model.outputs``).
    """

    def __init__(self, model):
        try:
            in_tensors, out_tensors = list(model.inputs), list(model.outputs)
        except (AttributeError, ValueError):
            in_tensors, out_tensors = [], []
        if not in_tensors or not out_tensors:
            raise ValueError(f"lamina.serving: model '{getattr(model, 'name', model)}' has no defined inputs "
                             f"and outputs; serve a Functional or Sequential model built on lamina.Input.")
        names, tensors, self.input_kind = _structure(model, "input", in_tensors)
        self.inputs = [TensorSpec(n, t.shape, t.dtype) for n, t in zip(names, tensors)]
        names, tensors, self.output_kind = _structure(model, "output", out_tensors)
        self.outputs = [TensorSpec(n, t.shape, t.dtype) for n, t in zip(names, tensors)]

    def metadata(self):
        return {"signature_def": {"signature_def": {SIGNATURE_NAME: {
            "inputs": {s.name: s.metadata() for s in self.inputs},
            "outputs": {s.name: s.metadata() for s in self.outputs},
            "method_name": "tensorflow/serving/predict"}}}}

    # ---- requests ----------------------------------------------------------------

    def parse(self, body):
        """Turn a parsed JSON request into ``(arrays, row_format)``: one array per input, in order."""
        if not isinstance(body, dict):
            raise RequestError(f"The request must be a JSON object with 'instances' or 'inputs', but received "
                               f"a JSON {type(body).__name__}.")
        sig = body.get("signature_name", SIGNATURE_NAME)
        if sig != SIGNATURE_NAME:
            raise RequestError(f"Unknown signature_name {sig!r}; this model has only {SIGNATURE_NAME!r}.")
        if ("instances" in body) == ("inputs" in body):
            raise RequestError("The request must have exactly one of the keys 'instances' (row format) "
                               f"or 'inputs' (columnar format); received keys {sorted(body)}.")
        if "instances" in body:
            return self._parse_rows(body["instances"]), True
        return self._parse_columns(body["inputs"]), False

    def _parse_rows(self, rows):
        if not isinstance(rows, list) or not rows:
            raise RequestError("'instances' must be a non-empty list of instances.")
        if len({isinstance(row, dict) for row in rows}) > 1:
            raise RequestError("'instances' mixes objects ({name: value}) and plain values; send every "
                               "instance in the same form.")
        if len(self.inputs) == 1 and not isinstance(rows[0], dict):
            return [self.inputs[0].check(rows, "'instances'")]
        columns = []
        for spec in self.inputs:
            column = []
            for i, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise RequestError(f"'instances'[{i}] must be an object with the keys "
                                       f"{[s.name for s in self.inputs]}, but received a JSON "
                                       f"{type(row).__name__}.")
                if spec.name not in row:
                    raise RequestError(f"'instances'[{i}] is missing the input key {spec.name!r} "
                                       f"(expected keys {[s.name for s in self.inputs]}).")
                column.append(row[spec.name])
            columns.append(spec.check(column, f"input {spec.name!r}"))
        return columns

    def _parse_columns(self, inputs):
        if not isinstance(inputs, dict):
            if len(self.inputs) != 1:
                raise RequestError(f"'inputs' must be an object with the keys {[s.name for s in self.inputs]}.")
            return [self.inputs[0].check(inputs, "'inputs'")]
        missing = [s.name for s in self.inputs if s.name not in inputs]
        if missing:
            raise RequestError(f"'inputs' is missing the key(s) {missing} (expected keys "
                               f"{[s.name for s in self.inputs]}, received {sorted(inputs)}).")
        arrays = [s.check(inputs[s.name], f"input {s.name!r}") for s in self.inputs]
        sizes = {a.shape[0] for a in arrays}
        if len(sizes) != 1:
            raise RequestError(f"All inputs must have the same batch size, but received "
                               f"{dict((s.name, a.shape[0]) for s, a in zip(self.inputs, arrays))}.")
        return arrays

    # ---- the model call and the reply ----------------------------------------------

    def model_inputs(self, arrays):
        """Pack one array per input into the structure the model is called with."""
        if self.input_kind == "dict":
            return {s.name: a for s, a in zip(self.inputs, arrays)}
        return arrays[0] if self.input_kind == "single" else list(arrays)

    def flatten_outputs(self, out):
        """One NumPy array per output, in the order of ``self.outputs``."""
        if self.output_kind == "dict":
            return [np.asarray(out[s.name]) for s in self.outputs]
        if self.output_kind == "list":
            return [np.asarray(o) for o in out]
        return [np.asarray(out[0] if isinstance(out, (list, tuple)) else out)]

    def reply(self, outputs, row_format):
        """The JSON reply for one request's outputs (one array per output)."""
        if row_format:
            if len(outputs) == 1:
                return {"predictions": outputs[0].tolist()}
            columns = [o.tolist() for o in outputs]
            return {"predictions": [{s.name: col[i] for s, col in zip(self.outputs, columns)}
                                    for i in range(len(columns[0]))]}
        if len(outputs) == 1:
            return {"outputs": outputs[0].tolist()}
        return {"outputs": {s.name: o.tolist() for s, o in zip(self.outputs, outputs)}}
