"""lamina.backend.result_type: NumPy's promotion for tensors of the same kind, Keras's rules across kinds (an
int and a float give the float; Python scalars are weak), served from a table instead of np.result_type."""

import itertools

import numpy as np

from lamina.backend import result_type
from lamina.backend.common import dtypes as D

SAME_KIND = [D.INT_TYPES + ("bool",), ("float16", "float32", "float64"), ("complex64", "complex128")]


def test_promotion_within_a_kind_is_numpys_for_pairs_and_triples():
    for kind in SAME_KIND:
        for n in (1, 2, 3):
            for names in itertools.product(kind, repeat=n):
                assert result_type(*names) == np.result_type(*names).name, names


def test_int_and_float_give_the_widest_float_and_scalars_are_weak():
    assert result_type("int64", "float16") == "float16"
    assert result_type("int8", "float32", "float64") == "float64"
    assert result_type("uint64", "bfloat16") == "bfloat16"
    assert result_type("bfloat16", "float16") == "float32"
    assert result_type("bfloat16", "int8", "float16") == "float16"
    assert result_type("int32", float) == "float32"
    assert result_type("int8", int) == "int8"
    assert result_type(float) == "float32" and result_type(int) == "int64" and result_type(bool) == "bool"


def test_the_table_answers_again_the_same():
    first = [result_type(*t) for t in itertools.product(("int8", "uint16", "float32"), repeat=3)]
    again = [result_type(*t) for t in itertools.product(("int8", "uint16", "float32"), repeat=3)]
    assert first == again
