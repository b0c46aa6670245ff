"""CTC (connectionist temporal classification) loss and decoding on PyTorch. Same names as ``backend/jax/nn_ctc.py``.

The loss is ``torch.nn.functional.ctc_loss`` on ``log_softmax`` of the logits. Decoding is greedy
(best class per step) or a prefix beam search run step by step on the device for the whole batch
(no host sync); both take the argument checks of ``lamina.ops.ctc_*``.
"""

import torch
import torch.nn.functional as F

from lamina.backend.torch.core import convert_to_tensor

# Two rolling-hash multipliers (int32 arithmetic wraps): together a 64-bit fingerprint of a prefix.
_HASH_A, _HASH_B = 1000003, 2654435


def _ctc_float(x):
    x = convert_to_tensor(x)
    if not x.is_floating_point() or torch.finfo(x.dtype).bits < 32:
        x = x.to(torch.float32)  # as Keras: at least float32
    return x


def _infeasible(target, target_length, output_length, max_time):
    """True where ``output_length`` steps cannot hold the label (each repeated pair needs a blank between)."""
    pos = torch.arange(target.shape[1], device=target.device)
    needed = target_length
    if target.shape[1] > 1:
        repeat = (target[:, 1:] == target[:, :-1]) & (pos[None, 1:] < target_length[:, None])
        needed = target_length + repeat.sum(dim=1)
    return torch.clamp(output_length, max=max_time) < needed


def _bad_labels(target, target_length, num_classes):
    """True for samples whose label (within its length) has a class outside ``[0, num_classes)``."""
    pos = torch.arange(target.shape[1], device=target.device)
    out = ((target < 0) | (target >= num_classes)) & (pos[None, :] < target_length[:, None])
    return out.any(dim=1)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    target = convert_to_tensor(target).long()
    output = _ctc_float(output)
    target_length = convert_to_tensor(target_length).long()
    output_length = convert_to_tensor(output_length).long()
    max_time, num_classes = output.shape[1], output.shape[2]
    logprobs = F.log_softmax(output, dim=-1).transpose(0, 1)   # (T, B, C), as torch wants
    loss = F.ctc_loss(logprobs, target.clamp(0, num_classes - 1), torch.clamp(output_length, max=max_time),
                      target_length, blank=mask_index, reduction="none", zero_infinity=True)
    # zero_infinity keeps the gradient of an impossible sample finite (zero); its value is +inf, as Keras.
    loss = torch.where(_infeasible(target, target_length, output_length, max_time),
                       torch.full_like(loss, float("inf")), loss)
    return torch.where(_bad_labels(target, target_length, num_classes), torch.full_like(loss, float("nan")), loss)


def _greedy_decode(inputs, lengths, merge_repeated, mask_index):
    max_time = inputs.shape[1]
    score, best = torch.max(inputs, dim=-1)
    best = best.to(torch.int32)
    steps = torch.arange(max_time, device=inputs.device)
    beyond = steps[None, :] >= lengths[:, None]
    best = torch.where(beyond, torch.full_like(best, mask_index), best)
    score = torch.where(beyond, torch.zeros_like(score), score)
    if merge_repeated and max_time > 1:
        repeat = F.pad(best[:, 1:] == best[:, :-1], (1, 0))
        best = torch.where(repeat, torch.full_like(best, mask_index), best)
    keep = best != mask_index
    order = torch.argsort(torch.where(keep, steps[None, :], max_time), dim=-1, stable=True)
    decoded = torch.take_along_dim(torch.where(keep, best, torch.full_like(best, -1)), order, dim=-1)
    return decoded[None], -torch.sum(score, dim=1, keepdim=True)


def _beam_step(state, logp, run, mask_index, beam_width):
    """One time step of CTC prefix beam search for the whole batch (beams stay distinct prefixes)."""
    paths, lens, last, h1, h2, p1, p2, lb, lnb = state
    batch, num_classes = logp.shape
    k, max_time = paths.shape[1], paths.shape[2]
    ninf = torch.tensor(float("-inf"), dtype=lb.dtype, device=lb.device)
    total = torch.logaddexp(lb, lnb)                            # (B, K)
    safe_last = last.clamp(min=0).long()
    lp_last = torch.where(last >= 0, torch.gather(logp, 1, safe_last), ninf)
    same_b = total + logp[:, mask_index][:, None]
    same_nb = lnb + lp_last
    classes = torch.arange(num_classes, device=logp.device)
    # Appending c: after a blank-ending prefix always, after c itself only via a blank.
    ext = torch.where(classes[None, None, :] == last[..., None], lb[..., None], total[..., None]) + logp[:, None, :]
    ext = torch.where(classes == mask_index, ninf, ext)         # (B, K, C)
    # Beam j is "beam k + last[j]" when j's parent fingerprint is k's: that extension merges into j.
    valid = torch.isfinite(total)
    match = ((p1[:, :, None] == h1[:, None, :]) & (p2[:, :, None] == h2[:, None, :])
             & (lens[:, :, None] == lens[:, None, :] + 1) & valid[:, :, None])   # (B, j, k)
    into = torch.gather(ext, 2, safe_last[:, None, :].expand(batch, k, k))      # (B, k, j): ext[b, k, last[b, j]]
    into = torch.where(match, into.transpose(1, 2), ninf)
    same_nb = torch.logaddexp(same_nb, torch.logsumexp(into, dim=2))
    covered = torch.einsum("bjk,bjc->bkc", match.to(logp.dtype),
                           F.one_hot(safe_last, num_classes).to(logp.dtype) * (last >= 0)[..., None]) > 0
    ext = torch.where(covered, ninf, ext)

    cand = torch.cat([torch.logaddexp(same_b, same_nb), ext.reshape(batch, -1)], dim=1)
    pick = torch.topk(cand, beam_width, dim=1).indices          # (B, K)
    is_ext = pick >= beam_width
    src = torch.where(is_ext, torch.div(pick - beam_width, num_classes, rounding_mode="floor"), pick)
    char = torch.where(is_ext, (pick - beam_width) % num_classes, -1).to(torch.int32)

    def take(x):
        return torch.gather(x, 1, src)

    src_lens = take(lens)
    new_paths = torch.gather(paths, 1, src[..., None].expand(batch, k, max_time))
    put = is_ext[..., None] & (torch.arange(max_time, device=paths.device)[None, None, :] == src_lens[..., None])
    new_paths = torch.where(put, char[..., None], new_paths)
    src_h1, src_h2 = take(h1), take(h2)
    ext_score = torch.gather(ext.reshape(batch, -1), 1, (pick - beam_width).clamp(min=0))
    new = (
        new_paths,
        src_lens + is_ext.to(torch.int32),
        torch.where(is_ext, char, take(last)),
        torch.where(is_ext, src_h1 * _HASH_A + char + 1, src_h1),
        torch.where(is_ext, src_h2 * _HASH_B + char + 1, src_h2),
        torch.where(is_ext, src_h1, take(p1)),
        torch.where(is_ext, src_h2, take(p2)),
        torch.where(is_ext, ninf, take(same_b)),
        torch.where(is_ext, ext_score, take(same_nb)),
    )
    return tuple(torch.where(run.reshape((batch,) + (1,) * (n.dim() - 1)), n, o) for n, o in zip(new, state))


def _beam_search_decode(inputs, lengths, beam_width, top_paths, mask_index):
    batch, max_time, _ = inputs.shape
    dev = inputs.device
    logp = F.log_softmax(inputs, dim=-1)
    k = beam_width
    zeros = torch.zeros((batch, k), dtype=torch.int32, device=dev)
    lb = torch.full((batch, k), float("-inf"), dtype=logp.dtype, device=dev)
    lb[:, 0] = 0.0
    state = (torch.full((batch, k, max_time), -1, dtype=torch.int32, device=dev), zeros, zeros - 1, zeros, zeros,
             zeros - 1, zeros - 1, lb, torch.full_like(lb, float("-inf")))
    running = torch.arange(max_time, device=dev)[:, None] < lengths[None, :]
    for t in range(max_time):
        state = _beam_step(state, logp[:, t], running[t], mask_index, k)
    paths, lb, lnb = state[0], state[-2], state[-1]
    n = min(top_paths, k)
    scores, pick = torch.topk(torch.logaddexp(lb, lnb), n, dim=1)
    best = torch.gather(paths, 1, pick[..., None].expand(batch, n, max_time))
    best = torch.where(torch.isfinite(scores)[..., None], best, torch.full_like(best, -1))
    if top_paths > n:  # more paths asked for than the beam holds: pad as "no path" (-1, score -inf)
        best = torch.cat([best, torch.full((batch, top_paths - n, max_time), -1, dtype=best.dtype, device=dev)], 1)
        scores = torch.cat([scores, torch.full((batch, top_paths - n), float("-inf"), dtype=scores.dtype,
                                               device=dev)], 1)
    return best.transpose(0, 1), scores


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    inputs = _ctc_float(inputs)
    lengths = convert_to_tensor(sequence_lengths).to(torch.int32)
    if strategy == "greedy":
        return _greedy_decode(inputs, lengths, merge_repeated, mask_index)
    if strategy == "beam_search":
        with torch.no_grad():
            return _beam_search_decode(inputs, lengths, beam_width, top_paths, mask_index)
    raise ValueError(f"ctc_decode: unknown `strategy` {strategy!r}; expected 'greedy' or 'beam_search'.")
