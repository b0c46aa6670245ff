"""Recurrent time loops on PyTorch. Same function names as ``backend/jax/rnn.py``.

``rnn`` is the general loop (a Python loop over timesteps calling a step function);
``fused_lstm`` and ``fused_gru`` run torch's fused kernels (``torch._VF.lstm`` /
``torch._VF.gru``, cuDNN on GPU) on Keras-layout weights, and return None when the
configuration cannot be expressed there (the caller then uses ``rnn``).
"""

import torch

from lamina.backend.torch.core import convert_to_tensor


def _expand_to(m, x):
    """The boolean ``(batch,)`` mask ``m`` reshaped to broadcast against ``x`` ``(batch, ...)``."""
    return m.reshape((-1,) + (1,) * (x.dim() - 1))


def rnn(step_fn, inputs, initial_states, mask=None, go_backwards=False, return_sequences=True,
        zero_output_for_mask=False, unroll=False):
    """Run ``step_fn`` over the time axis (axis 1) of ``inputs`` (a Python loop over the timesteps).

    Args:
        step_fn: ``step_fn(x_t, states) -> (output_t, new_states)``, ``states`` a list.
        inputs: tensor ``(batch, timesteps, ...)``.
        initial_states: list of state tensors.
        mask: optional boolean ``(batch, timesteps)``; a masked timestep keeps the
            previous states and repeats the previous output (zeros if
            ``zero_output_for_mask``).
        go_backwards: iterate from the last timestep; outputs come in iteration order.
        return_sequences: whether to stack every step's output.
        unroll: accepted for the same signature as JAX (this loop is already unrolled).

    Returns:
        ``(last_output, outputs or None, final_states)``.
    """
    inputs = convert_to_tensor(inputs)
    timesteps = inputs.shape[1]
    if mask is not None:
        mask = convert_to_tensor(mask).to(torch.bool)
    steps = range(timesteps - 1, -1, -1) if go_backwards else range(timesteps)
    states = [convert_to_tensor(s) for s in initial_states]
    outputs, last = [], None
    for t in steps:
        out, new_states = step_fn(inputs[:, t], states)
        new_states = list(new_states)
        if mask is not None:
            m = _expand_to(mask[:, t], out)
            if last is None:
                last = torch.zeros_like(out)
            new_states = [torch.where(_expand_to(mask[:, t], n), n, s) for n, s in zip(new_states, states)]
            emitted = torch.where(m, out, torch.zeros_like(out) if zero_output_for_mask else last)
            last = torch.where(m, out, last)
        else:
            emitted = last = out
        states = new_states
        if return_sequences:
            outputs.append(emitted)
    seq = torch.stack(outputs, dim=1) if return_sequences else None
    return last, seq, states


def _padded_lengths(mask, timesteps):
    """``(side, lengths)``: ``"right"`` when ``mask`` is True on a prefix of every row, ``"left"`` on a
    suffix (``pad_sequences``' default ``padding="pre"``), else ``(None, None)``. Lengths on the device."""
    mask = convert_to_tensor(mask).to(torch.bool)
    lengths = mask.sum(dim=1)
    steps = torch.arange(timesteps, device=mask.device).unsqueeze(0)
    if bool(torch.equal(steps < lengths.unsqueeze(1), mask)):
        return "right", lengths
    if bool(torch.equal(steps >= (timesteps - lengths).unsqueeze(1), mask)):
        return "left", lengths
    return None, None


def _run_fused(kind, inputs, hx, weights, has_bias, mask, go_backwards, zero_output_for_mask):
    fn = torch._VF.lstm if kind == "lstm" else torch._VF.gru
    if inputs.is_cuda:  # cuDNN views its inputs and weights flat: they must be contiguous
        inputs = inputs.contiguous()
        weights = [w.contiguous() for w in weights]
        hx = tuple(h.contiguous() for h in hx) if isinstance(hx, tuple) else hx.contiguous()
    timesteps = inputs.shape[1]
    lengths = side = None
    if mask is not None:
        side, lengths = _padded_lengths(mask, timesteps)
        if lengths is None:
            return None
        if bool((lengths == timesteps).all()):
            lengths = None
    if lengths is None:
        if go_backwards:
            inputs = torch.flip(inputs, dims=[1])
        res = fn(inputs, hx, weights, has_bias, 1, 0.0, torch.is_grad_enabled(), False, True)
        outputs, final = res[0], list(res[1:])
        return outputs, outputs[:, -1], [f[0] for f in final]
    steps = torch.arange(timesteps, device=inputs.device).unsqueeze(0)
    dev_lengths = lengths.unsqueeze(1)
    if side == "left":
        if go_backwards:
            # Reversed, a left-padded row is right-padded: its valid part runs first.
            return _run_packed(fn, kind, torch.flip(inputs, dims=[1]), hx, weights, has_bias, lengths,
                               zero_output_for_mask)
        # The masked prefix keeps the initial states and outputs zeros (there is no earlier output to
        # repeat): run each row's valid suffix as a right-padded row and shift the outputs back.
        pad = timesteps - dev_lengths
        idx = (steps + pad).clamp(max=timesteps - 1)
        shifted = inputs.gather(1, idx.unsqueeze(-1).expand(-1, -1, inputs.shape[-1]))
        outputs, last, final = _run_packed(fn, kind, shifted, hx, weights, has_bias, lengths, True)
        back = (steps - pad).clamp(min=0)
        outputs = outputs.gather(1, back.unsqueeze(-1).expand(-1, -1, outputs.shape[-1]))
        outputs = torch.where((steps >= pad).unsqueeze(-1), outputs, torch.zeros_like(outputs))
        return outputs, last, final
    if go_backwards:
        # Reversed, a right-padded row is masked first (states stay, outputs are zeros), then runs
        # its valid part backwards: run that part as a right-padded sequence and shift it into place.
        idx = (dev_lengths - 1 - steps).clamp(min=0)
        rev = inputs.gather(1, idx.unsqueeze(-1).expand(-1, -1, inputs.shape[-1]))
        outputs, last, final = _run_packed(fn, kind, rev, hx, weights, has_bias, lengths, True)
        shift = (steps - (timesteps - dev_lengths)).clamp(min=0)
        outputs = outputs.gather(1, shift.unsqueeze(-1).expand(-1, -1, outputs.shape[-1]))
        outputs = torch.where((steps >= timesteps - dev_lengths).unsqueeze(-1), outputs, torch.zeros_like(outputs))
        return outputs, last, final
    return _run_packed(fn, kind, inputs, hx, weights, has_bias, lengths, zero_output_for_mask)


@torch.compiler.disable
def _run_packed(fn, kind, inputs, hx, weights, has_bias, lengths, zero_output_for_mask):
    """Run right-padded rows (``lengths`` on CPU, zeros allowed) with Keras's mask semantics.

    Outside torch.compile's graph (jit_compile=True): dynamo's fake tensors cannot run cuDNN's packed-sequence
    kernels (``_pad_packed_sequence`` reads the CPU lengths), so the compiled step calls this eagerly."""
    timesteps = inputs.shape[1]
    clamped = lengths.clamp(min=1)
    packed = torch.nn.utils.rnn.pack_padded_sequence(inputs, clamped.cpu(), batch_first=True,
                                                     enforce_sorted=False)
    hx_sorted = tuple(h.index_select(1, packed.sorted_indices) for h in hx) if kind == "lstm" else \
        hx.index_select(1, packed.sorted_indices)
    res = fn(packed.data, packed.batch_sizes, hx_sorted, weights, has_bias, 1, 0.0, torch.is_grad_enabled(), False)
    out_packed = torch.nn.utils.rnn.PackedSequence(res[0], packed.batch_sizes, packed.sorted_indices,
                                                   packed.unsorted_indices)
    outputs, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=timesteps)
    final = [f.index_select(1, packed.unsorted_indices)[0] for f in res[1:]]
    init = [h[0] for h in (hx if kind == "lstm" else (hx,))]
    empty = (lengths == 0).to(outputs.device)
    final = [torch.where(empty.unsqueeze(-1), i, f) for i, f in zip(init, final)]
    # Keras: a masked timestep repeats the last valid output (or zeros when asked, or before any step)
    idx = (clamped.to(outputs.device) - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
    last = outputs.gather(1, idx)[:, 0]
    last = torch.where(empty.unsqueeze(-1), torch.zeros_like(last), last)
    if not zero_output_for_mask:
        valid = (torch.arange(timesteps, device=outputs.device).unsqueeze(0)
                 < lengths.to(outputs.device).unsqueeze(1)).unsqueeze(-1)
        outputs = torch.where(valid, outputs, last.unsqueeze(1))
    else:
        outputs = torch.where(empty.view(-1, 1, 1), torch.zeros_like(outputs), outputs)
    return outputs, last, final


def fused_lstm(inputs, initial_states, kernel, recurrent_kernel, bias=None, mask=None, go_backwards=False,
               zero_output_for_mask=False):
    """LSTM (Keras gate order i, f, c, o; tanh / sigmoid) on torch's fused kernel.

    Args:
        inputs: ``(batch, timesteps, input_dim)``.
        initial_states: ``[h0, c0]``, each ``(batch, units)``.
        kernel, recurrent_kernel, bias: Keras-layout weights ``(input_dim, 4u)``,
            ``(u, 4u)``, ``(4u,)`` or None.
        mask: optional boolean ``(batch, timesteps)``; only right- or left-padded masks run here.

    Returns:
        ``(outputs, last_output, [h, c])``, or None when the mask is neither right- nor left-padded.
    """
    inputs = convert_to_tensor(inputs)
    h0, c0 = (convert_to_tensor(s) for s in initial_states)
    kernel, recurrent_kernel = convert_to_tensor(kernel), convert_to_tensor(recurrent_kernel)
    weights = [kernel.t(), recurrent_kernel.t()]  # torch order i, f, g, o is Keras's i, f, c, o
    if bias is not None:
        bias = convert_to_tensor(bias)
        weights += [bias, torch.zeros_like(bias)]
    weights = [w.to(inputs.dtype) for w in weights]  # the kernel runs in the inputs' (compute) dtype
    h0, c0 = h0.to(inputs.dtype), c0.to(inputs.dtype)
    return _run_fused("lstm", inputs, (h0.unsqueeze(0), c0.unsqueeze(0)), weights, bias is not None, mask,
                      go_backwards, zero_output_for_mask)


def _gru_order(w, units):
    """Keras gate blocks z, r, h (last axis) to torch's r, z, n (first axis after transposing)."""
    return torch.cat([w[..., units:2 * units], w[..., :units], w[..., 2 * units:]], dim=-1)


def fused_gru(inputs, initial_state, kernel, recurrent_kernel, bias=None, mask=None, go_backwards=False,
              zero_output_for_mask=False):
    """GRU with ``reset_after=True`` (Keras gate order z, r, h; tanh / sigmoid) on torch's fused kernel.

    Args:
        inputs: ``(batch, timesteps, input_dim)``.
        initial_state: ``h0`` ``(batch, units)``.
        kernel, recurrent_kernel: ``(input_dim, 3u)``, ``(u, 3u)``.
        bias: ``(2, 3u)`` (input and recurrent biases) or None.
        mask: optional boolean ``(batch, timesteps)``; only right- or left-padded masks run here.

    Returns:
        ``(outputs, last_output, [h])``, or None when the mask is neither right- nor left-padded.
    """
    inputs = convert_to_tensor(inputs)
    h0 = convert_to_tensor(initial_state)
    recurrent_kernel = convert_to_tensor(recurrent_kernel)
    units = recurrent_kernel.shape[0]
    weights = [_gru_order(convert_to_tensor(kernel), units).t(), _gru_order(recurrent_kernel, units).t()]
    if bias is not None:
        bias = _gru_order(convert_to_tensor(bias), units)
        weights += [bias[0], bias[1]]
    weights = [w.to(inputs.dtype) for w in weights]
    return _run_fused("gru", inputs, h0.to(inputs.dtype).unsqueeze(0), weights, bias is not None, mask, go_backwards,
                      zero_output_for_mask)


def has_fused_kernels(kind=None):
    """Whether the fused kernel of ``kind`` ("lstm", "gru"; None: any) can run here (both on PyTorch)."""
    return True
