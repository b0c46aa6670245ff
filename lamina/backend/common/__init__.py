"""Engine-independent parts of the backend: dtypes, Variable base, symbolic tensors, scopes."""
