"""Unique auto-names for layers and models (``dense``, ``dense_1``, ...)."""

import re

_UIDS = {}


def to_snake_case(name):
    """Keras's rule: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d``, ``PReLU`` -> ``p_re_lu``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(base):
    """Return ``base`` the first time, then ``base_1``, ``base_2`` ..."""
    n = _UIDS.get(base, 0)
    _UIDS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def get_uid(prefix=""):
    """Return the next integer id for ``prefix`` (starting at 1), as Keras's get_uid."""
    _UIDS[("uid", prefix)] = _UIDS.get(("uid", prefix), 0) + 1
    return _UIDS[("uid", prefix)]


def reset_uids():
    """Forget the names given so far, so auto-names start again at ``dense``."""
    _UIDS.clear()
