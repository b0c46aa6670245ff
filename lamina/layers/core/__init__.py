"""Core layers: Input, Dense, Activation, Flatten, Reshape, Dropout, Identity, Lambda, Masking."""
