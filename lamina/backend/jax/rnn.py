"""Recurrent time loops on JAX. Same function names as ``backend/torch/rnn.py``.

``rnn`` is a ``jax.lax.scan`` over the time axis (the layers hoist the input
projection ``x @ kernel`` out of the step). JAX has no fused LSTM/GRU kernel, so
``fused_lstm`` and ``fused_gru`` return None and the caller uses ``rnn``.
"""

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor


def _expand_to(m, x):
    """The boolean ``(batch,)`` mask ``m`` reshaped to broadcast against ``x`` ``(batch, ...)``."""
    return jnp.reshape(m, (-1,) + (1,) * (x.ndim - 1))


def rnn(step_fn, inputs, initial_states, mask=None, go_backwards=False, return_sequences=True,
        zero_output_for_mask=False, unroll=False):
    """Run ``step_fn`` over the time axis (axis 1) of ``inputs`` with ``jax.lax.scan``
    (or, with ``unroll=True``, a Python loop over the timesteps).

    Args:
        step_fn: ``step_fn(x_t, states) -> (output_t, new_states)``, ``states`` a list.
        inputs: tensor ``(batch, timesteps, ...)``.
        initial_states: list of state tensors.
        mask: optional boolean ``(batch, timesteps)``; a masked timestep keeps the
            previous states and repeats the previous output (zeros if
            ``zero_output_for_mask``).
        go_backwards: iterate from the last timestep; outputs come in iteration order.
        return_sequences: whether to stack every step's output.
        unroll: a Python loop instead of ``lax.scan`` (same numbers; the timesteps must be known).

    Returns:
        ``(last_output, outputs or None, final_states)``.
    """
    inputs = convert_to_tensor(inputs)
    xs = jnp.swapaxes(inputs, 0, 1)
    states = [convert_to_tensor(s) for s in initial_states]
    ms = None
    if mask is not None:
        ms = jnp.swapaxes(convert_to_tensor(mask).astype(bool), 0, 1)
    if go_backwards:
        xs = jnp.flip(xs, 0)
        ms = None if ms is None else jnp.flip(ms, 0)
    out_spec = jax.eval_shape(lambda x, s: step_fn(x, s)[0], xs[0], states)

    def body(carry, inp):
        prev_states, prev_out = carry
        x_t, m_t = inp if ms is not None else (inp, None)
        out, new_states = step_fn(x_t, prev_states)
        new_states = list(new_states)
        if m_t is not None:
            new_states = [jnp.where(_expand_to(m_t, n), n, s) for n, s in zip(new_states, prev_states)]
            m = _expand_to(m_t, out)
            emitted = jnp.where(m, out, jnp.zeros_like(out) if zero_output_for_mask else prev_out)
            out = jnp.where(m, out, prev_out)
        else:
            emitted = out
        new_states = [n.astype(s.dtype) for n, s in zip(new_states, prev_states)]
        return (new_states, out.astype(prev_out.dtype)), (emitted if return_sequences else None)

    prev0 = jnp.zeros(out_spec.shape, out_spec.dtype)
    if unroll:
        carry, emitted = (states, prev0), []
        for t in range(xs.shape[0]):
            carry, e = body(carry, xs[t] if ms is None else (xs[t], ms[t]))
            emitted.append(e)
        final_states, last = carry
        seq = jnp.stack(emitted, axis=1) if return_sequences else None
        return last, seq, list(final_states)
    (final_states, last), outs = jax.lax.scan(body, (states, prev0), xs if ms is None else (xs, ms))
    seq = jnp.swapaxes(outs, 0, 1) if return_sequences else None
    return last, seq, list(final_states)


def fused_lstm(inputs, initial_states, kernel, recurrent_kernel, bias=None, mask=None, go_backwards=False,
               zero_output_for_mask=False):
    """JAX has no fused LSTM kernel: always None (the caller runs ``rnn``)."""
    return None


def fused_gru(inputs, initial_state, kernel, recurrent_kernel, bias=None, mask=None, go_backwards=False,
              zero_output_for_mask=False):
    """JAX has no fused GRU kernel: always None (the caller runs ``rnn``)."""
    return None


def has_fused_kernels():
    """Whether ``fused_lstm`` / ``fused_gru`` can run here (False on JAX)."""
    return False
