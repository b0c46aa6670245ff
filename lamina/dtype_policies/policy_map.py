"""``DTypePolicyMap``: one dtype policy per layer path, with a default for the rest."""

import re
from collections.abc import MutableMapping

from lamina.dtype_policies.dtype_policy import DTypePolicy


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """A dict-like policy mapping layer paths (or regular expressions over them) to dtype policies.

    Give it as a layer's (or model's) ``dtype``: when the layer builds, it takes the policy of its
    path (``"encoder/dense"``, the prefix of its weights' paths), so one map can make some
    layers quantized (``"int8_from_float32"``) and leave the others float. A key is first matched
    exactly, then as a regular expression against the whole path (``re.fullmatch``); a path
    matching two patterns is an error. Unmatched paths get ``default_policy``.

    Args:
        default_policy: the policy of unmatched paths (default: the global policy).
        policy_map: an initial dict of path -> policy (or policy name).

    Example:
    >>> import lamina
    >>> policies = lamina.dtype_policies.DTypePolicyMap(default_policy="float32")
    >>> policies["encoder/.*"] = "bfloat16"
    >>> policies["decoder"] = "int8_from_float32"
    >>> policies["encoder/dense"].name, policies["decoder"].quantization_mode, policies["other"].name
    ('bfloat16', 'int8', 'float32')
    >>> layer = lamina.layers.Dense(2, dtype=policies, name="decoder")
    >>> layer.build((None, 3))
    >>> layer.quantization_mode, str(layer.kernel.dtype)
    ('int8', 'int8')
    """

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("DTypePolicyMap: default_policy cannot itself be a DTypePolicyMap.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError(f"DTypePolicyMap expected policy_map to be a dict of path -> policy, but received "
                            f"{type(policy_map).__name__} {policy_map!r:.100}.")
        from lamina.dtype_policies import get

        self._default_policy_arg = default_policy
        self._default_policy = get(default_policy) if default_policy is not None else None
        self._policy_map = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

    @property
    def default_policy(self):
        """The policy of paths no key matches (the global policy when none was given)."""
        if self._default_policy is not None:
            return self._default_policy
        from lamina.dtype_policies import dtype_policy

        return dtype_policy()

    name = property(lambda self: f"map_{self.default_policy.name}")
    compute_dtype = property(lambda self: self.default_policy.compute_dtype)
    variable_dtype = property(lambda self: self.default_policy.variable_dtype)
    quantization_mode = property(lambda self: self.default_policy.quantization_mode)

    def __getitem__(self, key):
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [pattern for pattern in self._policy_map if _fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"DTypePolicyMap: path {key!r} matches several keys {matches}; make each path match "
                             "at most one key.")
        return self._policy_map[matches[0]] if matches else self.default_policy

    def __setitem__(self, key, policy):
        from lamina.dtype_policies import get

        if not isinstance(key, str):
            raise TypeError(f"DTypePolicyMap keys are layer paths (strings), but received {key!r}.")
        if key in self._policy_map:
            raise ValueError(f"DTypePolicyMap already has the key {key!r} (policy {self._policy_map[key]!r}); "
                             "delete it first to replace it.")
        if isinstance(policy, DTypePolicyMap):
            raise ValueError(f"DTypePolicyMap: the policy of {key!r} cannot be another DTypePolicyMap.")
        try:
            self._policy_map[key] = get(policy)
        except (ValueError, TypeError) as error:
            raise ValueError(f"DTypePolicyMap cannot use {policy!r} as the policy of {key!r}: {error}") from None

    def __delitem__(self, key):
        del self._policy_map[key]

    def __contains__(self, key):
        return key in self._policy_map

    def __len__(self):
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    def __eq__(self, other):
        return isinstance(other, DTypePolicyMap) and other.default_policy == self.default_policy and \
            other._policy_map == self._policy_map

    __hash__ = None

    def get_config(self):
        from lamina.dtype_policies import serialize

        default = self._default_policy_arg
        if isinstance(default, DTypePolicy):
            default = serialize(default)
        return {"default_policy": default,
                "policy_map": {key: serialize(policy) for key, policy in self._policy_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        return cls(default_policy=config.get("default_policy"), policy_map=dict(config.get("policy_map") or {}))

    def __repr__(self):
        return (f"<DTypePolicyMap default_policy={self.default_policy.name!r}, "
                f"mapping={[(k, v.name) for k, v in self._policy_map.items()]}>")


def _fullmatch(pattern, key):
    try:
        return re.fullmatch(pattern, key) is not None
    except re.error:
        return False
