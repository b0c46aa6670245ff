"""Checks shared by both engines' ``dot_product_attention`` (shapes only, no engine calls)."""


def check_attention_shapes(q_shape, k_shape, v_shape):
    """Raise a clear ``ValueError`` unless query/key/value are (batch, seq, heads, dim) and fit together.

    Example:
    >>> check_attention_shapes((2, 5, 4, 8), (2, 7, 2, 8), (2, 7, 2, 3))
    >>> check_attention_shapes((2, 5, 8), (2, 7, 2, 8), (2, 7, 2, 3))
    Traceback (most recent call last):
    ...
    ValueError: dot_product_attention expects query, key and value of rank 4 (batch, seq, heads, head_dim), but received shapes (2, 5, 8), (2, 7, 2, 8), (2, 7, 2, 3).
    """
    q_shape, k_shape, v_shape = tuple(q_shape), tuple(k_shape), tuple(v_shape)
    if len(q_shape) != 4 or len(k_shape) != 4 or len(v_shape) != 4:
        raise ValueError(
            "dot_product_attention expects query, key and value of rank 4 (batch, seq, heads, head_dim), "
            f"but received shapes {q_shape}, {k_shape}, {v_shape}.")
    if k_shape[-1] != q_shape[-1] or v_shape[:3] != k_shape[:3] or q_shape[2] % k_shape[2]:
        raise ValueError(
            "dot_product_attention expects key (batch, S, K, head_dim) matching query's head_dim, value "
            "(batch, S, K, value_dim), and K dividing the number of query heads, but received query "
            f"{q_shape}, key {k_shape}, value {v_shape}.")
