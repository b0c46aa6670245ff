"""CTC (connectionist temporal classification) loss and decoding on JAX. Same names as ``backend/torch/nn_ctc.py``.

The loss is the forward algorithm over the blank-interleaved label sequence, in log space, as one
``lax.scan`` over time (jit- and grad-friendly). Decoding is greedy (best class per step) or a
prefix beam search, also a ``lax.scan``; both take the argument checks of ``lamina.ops.ctc_*``.
"""

import functools

import jax
import jax.numpy as jnp

from lamina.backend.jax.core import convert_to_tensor

# log(0) for states no alignment reaches. Finite, so that log-sum-exp keeps finite gradients;
# samples that no alignment fits get an exact +inf loss from ``_infeasible`` instead.
_NEG = -1e30
# Two rolling-hash multipliers (int32 arithmetic wraps): together a 64-bit fingerprint of a prefix.
_HASH_A, _HASH_B = 1000003, 2654435


def _ctc_float(x):
    x = convert_to_tensor(x)
    if not jnp.issubdtype(x.dtype, jnp.floating) or jnp.finfo(x.dtype).bits < 32:
        x = x.astype(jnp.float32)  # as Keras: at least float32
    return x


def _infeasible(target, target_length, output_length, max_time):
    """True where ``output_length`` steps cannot hold the label (each repeated pair needs a blank between)."""
    pos = jnp.arange(target.shape[1])
    if target.shape[1] > 1:
        repeat = (target[:, 1:] == target[:, :-1]) & (pos[None, 1:] < target_length[:, None])
        needed = target_length + jnp.sum(repeat, axis=1, dtype=jnp.int32)
    else:
        needed = target_length
    return jnp.minimum(output_length, max_time) < needed


def _bad_labels(target, target_length, num_classes):
    """True for samples whose label (within its length) has a class outside ``[0, num_classes)``."""
    pos = jnp.arange(target.shape[1])
    out = ((target < 0) | (target >= num_classes)) & (pos[None, :] < target_length[:, None])
    return jnp.any(out, axis=1)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    return _ctc_loss(convert_to_tensor(target).astype(jnp.int32), _ctc_float(output),
                     convert_to_tensor(target_length).astype(jnp.int32),
                     convert_to_tensor(output_length).astype(jnp.int32), mask_index)


@functools.partial(jax.jit, static_argnums=4)  # compiled once per shape (an eager scan would re-trace each call)
def _ctc_loss(target, output, target_length, output_length, mask_index):
    batch, max_time, num_classes = output.shape
    max_label = target.shape[1]
    logprobs = jax.nn.log_softmax(output, axis=-1)

    # The extended label: blank, l1, blank, l2, ..., lL, blank (S = 2L + 1 states).
    labels = jnp.clip(target, 0, num_classes - 1)
    blanks = jnp.full((batch, max_label), mask_index, jnp.int32)
    ext = jnp.stack([blanks, labels], axis=-1).reshape(batch, 2 * max_label)
    ext = jnp.concatenate([ext, jnp.full((batch, 1), mask_index, jnp.int32)], axis=1)
    states = ext.shape[1]
    s = jnp.arange(states)
    two_back = jnp.concatenate([jnp.full((batch, 2), -1, jnp.int32), ext], axis=1)[:, :states]
    # A label state may be entered from two states back unless it repeats the previous label.
    skip = (s[None] % 2 == 1) & (s[None] >= 2) & (ext != two_back)
    emit = jnp.take_along_axis(logprobs, jnp.broadcast_to(ext[:, None, :], (batch, max_time, states)), axis=2)
    running = jnp.arange(max_time)[:, None] < output_length[None, :]          # (T, B)

    def step(alpha, xs):
        e, run = xs
        shifted = jnp.pad(alpha, ((0, 0), (2, 0)), constant_values=_NEG)   # shifted[:, s + 2] = alpha[:, s]
        one = shifted[:, 1:states + 1]
        two = jnp.where(skip, shifted[:, :states], _NEG)
        top = jax.lax.stop_gradient(jnp.maximum(jnp.maximum(alpha, one), two))
        new = top + jnp.log(jnp.exp(alpha - top) + jnp.exp(one - top) + jnp.exp(two - top)) + e
        return jnp.where(run[:, None], new, alpha), None

    # Before the first step only the start state is occupied; the recursion then gives alpha_0.
    alpha0 = jnp.full((batch, states), _NEG, output.dtype).at[:, 0].set(0.0)
    alpha, _ = jax.lax.scan(step, alpha0, (jnp.swapaxes(emit, 0, 1), running))
    last = jnp.take_along_axis(alpha, (2 * target_length)[:, None], axis=1)[:, 0]
    before = jnp.take_along_axis(alpha, jnp.maximum(2 * target_length - 1, 0)[:, None], axis=1)[:, 0]
    before = jnp.where(target_length > 0, before, _NEG)
    loss = -jnp.logaddexp(last, before)
    loss = jnp.where(_infeasible(target, target_length, output_length, max_time), jnp.inf, loss)
    return jnp.where(_bad_labels(target, target_length, num_classes), jnp.nan, loss)


def _greedy_decode(inputs, lengths, merge_repeated, mask_index):
    batch, max_time, _ = inputs.shape
    best = jnp.argmax(inputs, axis=-1).astype(jnp.int32)
    score = jnp.max(inputs, axis=-1)
    beyond = jnp.arange(max_time)[None, :] >= lengths[:, None]
    best = jnp.where(beyond, mask_index, best)
    score = jnp.where(beyond, 0.0, score)
    if merge_repeated and max_time > 1:
        repeat = jnp.pad(best[:, 1:] == best[:, :-1], ((0, 0), (1, 0)))
        best = jnp.where(repeat, mask_index, best)
    keep = best != mask_index
    order = jnp.argsort(jnp.where(keep, jnp.arange(max_time)[None, :], max_time), axis=-1, stable=True)
    decoded = jnp.take_along_axis(jnp.where(keep, best, -1), order, axis=-1)
    return decoded[None], -jnp.sum(score, axis=1, keepdims=True)


def _beam_step(state, xs, mask_index, beam_width):
    """One time step of CTC prefix beam search for the whole batch (beams stay distinct prefixes)."""
    paths, lens, last, h1, h2, p1, p2, lb, lnb = state
    logp, run = xs                                              # (B, C), (B,)
    batch, num_classes = logp.shape
    max_time = paths.shape[-1]
    ninf = jnp.array(-jnp.inf, lb.dtype)
    total = jnp.logaddexp(lb, lnb)                              # (B, K)
    lp_last = jnp.where(last >= 0, jnp.take_along_axis(logp, jnp.maximum(last, 0), axis=1), ninf)
    same_b = total + logp[:, mask_index][:, None]
    same_nb = lnb + lp_last
    classes = jnp.arange(num_classes)
    # Appending c: after a blank-ending prefix always, after c itself only via a blank.
    ext = jnp.where(classes[None, None, :] == last[..., None], lb[..., None], total[..., None]) + logp[:, None, :]
    ext = jnp.where(classes == mask_index, ninf, ext)           # (B, K, C)
    # Beam j is "beam k + last[j]" when j's parent fingerprint is k's: that extension merges into j.
    valid = jnp.isfinite(total)
    match = ((p1[:, :, None] == h1[:, None, :]) & (p2[:, :, None] == h2[:, None, :])
             & (lens[:, :, None] == lens[:, None, :] + 1) & valid[:, :, None])   # (B, j, k)
    k = last.shape[1]
    into = jnp.take_along_axis(ext, jnp.broadcast_to(jnp.maximum(last, 0)[:, None, :], (batch, k, k)),
                               axis=2)                          # (B, k, j): ext[b, k, last[b, j]]
    into = jnp.where(match, jnp.swapaxes(into, 1, 2), ninf)
    same_nb = jnp.logaddexp(same_nb, jax.nn.logsumexp(into, axis=2))
    covered = jnp.einsum("bjk,bjc->bkc", match.astype(jnp.float32),
                         jax.nn.one_hot(last, num_classes, dtype=jnp.float32)) > 0
    ext = jnp.where(covered, ninf, ext)

    cand = jnp.concatenate([jnp.logaddexp(same_b, same_nb), ext.reshape(batch, -1)], axis=1)
    _, pick = jax.lax.top_k(cand, beam_width)                  # (B, K)
    is_ext = pick >= beam_width
    src = jnp.where(is_ext, (pick - beam_width) // num_classes, pick)
    char = jnp.where(is_ext, (pick - beam_width) % num_classes, -1).astype(jnp.int32)

    def take(x):
        return jnp.take_along_axis(x, src, axis=1)

    src_lens = take(lens)
    new_paths = jnp.take_along_axis(paths, src[..., None], axis=1)
    put = is_ext[..., None] & (jnp.arange(max_time)[None, None, :] == src_lens[..., None])
    new_paths = jnp.where(put, char[..., None], new_paths)
    src_h1, src_h2 = take(h1), take(h2)
    ext_score = jnp.take_along_axis(ext.reshape(batch, -1), jnp.maximum(pick - beam_width, 0), axis=1)
    new = (
        new_paths,
        src_lens + is_ext.astype(jnp.int32),
        jnp.where(is_ext, char, take(last)),
        jnp.where(is_ext, src_h1 * _HASH_A + char + 1, src_h1),
        jnp.where(is_ext, src_h2 * _HASH_B + char + 1, src_h2),
        jnp.where(is_ext, src_h1, take(p1)),
        jnp.where(is_ext, src_h2, take(p2)),
        jnp.where(is_ext, ninf, take(same_b)),
        jnp.where(is_ext, ext_score, take(same_nb)),
    )
    return tuple(
        jnp.where(run.reshape((batch,) + (1,) * (n.ndim - 1)), n, o) for n, o in zip(new, state)
    ), None


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _beam_search_decode(inputs, lengths, beam_width, top_paths, mask_index):
    batch, max_time, _ = inputs.shape
    logp = jax.nn.log_softmax(inputs, axis=-1)
    k = beam_width
    zeros = jnp.zeros((batch, k), jnp.int32)
    lb = jnp.full((batch, k), -jnp.inf, logp.dtype).at[:, 0].set(0.0)
    state = (jnp.full((batch, k, max_time), -1, jnp.int32), zeros, zeros - 1, zeros, zeros, zeros - 1,
             zeros - 1, lb, jnp.full((batch, k), -jnp.inf, logp.dtype))
    running = jnp.arange(max_time)[:, None] < lengths[None, :]

    def step(carry, xs):
        return _beam_step(carry, xs, mask_index, k)

    state, _ = jax.lax.scan(step, state, (jnp.swapaxes(logp, 0, 1), running))
    paths, lb, lnb = state[0], state[-2], state[-1]
    total = jnp.logaddexp(lb, lnb)
    n = min(top_paths, k)
    scores, pick = jax.lax.top_k(total, n)
    best = jnp.take_along_axis(paths, pick[..., None], axis=1)
    best = jnp.where(jnp.isfinite(scores)[..., None], best, -1)
    if top_paths > n:  # more paths asked for than the beam holds: pad as "no path" (-1, score -inf)
        best = jnp.concatenate([best, jnp.full((batch, top_paths - n, max_time), -1, jnp.int32)], axis=1)
        scores = jnp.concatenate([scores, jnp.full((batch, top_paths - n), -jnp.inf, scores.dtype)], axis=1)
    return jnp.swapaxes(best, 0, 1), scores


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    inputs = _ctc_float(inputs)
    lengths = convert_to_tensor(sequence_lengths).astype(jnp.int32)
    if strategy == "greedy":
        return _greedy_decode(inputs, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        return _beam_search_decode(inputs, lengths, beam_width, top_paths, mask_index)
    raise ValueError(f"ctc_decode: unknown `strategy` {strategy!r}; expected 'greedy' or 'beam_search'.")
