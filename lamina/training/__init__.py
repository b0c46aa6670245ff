"""The one training loop: compile, fit, evaluate, predict (both engines)."""
