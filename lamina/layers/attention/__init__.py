"""Attention layers: Attention, AdditiveAttention, MultiHeadAttention, GroupedQueryAttention."""

from lamina.layers.attention.attention import AdditiveAttention, Attention  # noqa: F401
from lamina.layers.attention.grouped_query_attention import GroupedQueryAttention  # noqa: F401
from lamina.layers.attention.multi_head_attention import MultiHeadAttention  # noqa: F401

GroupQueryAttention = GroupedQueryAttention
