"""A model's own ``train_step``/``test_step`` on PyTorch (see lamina/training/custom_steps.py): run as written,
eagerly, which is how PyTorch runs; same names as ``backend/jax/custom_step.py``."""


class CustomStepRunner:
    def __init__(self, model, method, collect_state):
        self.model = model
        self.method = method
        self.collect_state = collect_state

    def __call__(self, data):
        return self.method(data)
