"""``PyDataset`` (alias ``Sequence``): a dataset of batches indexed by integer, as Keras's."""


class PyDataset:
    """Base class of datasets that ``fit``/``evaluate``/``predict`` read batch by batch.

    Subclasses implement ``__getitem__(index)`` (return one batch: ``x``, ``(x,)``,
    ``(x, y)`` or ``(x, y, sample_weight)``) and ``__len__()`` (the number of batches),
    or the ``num_batches`` property instead of ``__len__`` (``None`` means infinite;
    then ``fit`` needs ``steps_per_epoch``). ``on_epoch_begin``/``on_epoch_end`` are
    called around every epoch.

    Args:
        workers: how many workers fetch batches in parallel (threads, or processes with
            ``use_multiprocessing=True``).
        use_multiprocessing: fetch batches in worker processes (the dataset must be
            picklable, and its class importable by a fresh Python process).
        max_queue_size: how many batches may be fetched ahead of the training step.

    Example:
    >>> import numpy as np, lamina
    >>> class Squares(lamina.utils.PyDataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         x = np.full((4, 1), i, "float32")
    ...         return x, x ** 2
    >>> ds = Squares()
    >>> len(ds), float(ds[2][1][0, 0])
    (3, 4.0)
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"PyDataset: workers must be a positive int, but received workers={workers!r}.")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(
                f"PyDataset: max_queue_size must be a positive int, but received max_queue_size={max_queue_size!r}."
            )
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return self.__dict__.get("_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        return self.__dict__.get("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self):
        return self.__dict__.get("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    @property
    def num_batches(self):
        """The number of batches of one epoch: ``len(self)``, or ``None`` for an infinite dataset."""
        if type(self).__len__ is PyDataset.__len__:
            raise TypeError(
                f"{type(self).__name__} must define __len__() (the number of batches) or the "
                "`num_batches` property (return None for an infinite dataset)."
            )
        return len(self)

    def __len__(self):
        n = self.num_batches
        if n is None:
            raise TypeError(f"{type(self).__name__} is infinite (num_batches is None): it has no length.")
        return int(n)

    def __getitem__(self, index):
        raise TypeError(
            f"{type(self).__name__} must define __getitem__(index) returning the batch at that index."
        )

    def __iter__(self):
        n = self.num_batches
        i = 0
        while n is None or i < n:
            yield self[i]
            i += 1

    def on_epoch_begin(self):
        """Called at the start of every epoch (override to prepare the data)."""

    def on_epoch_end(self):
        """Called at the end of every epoch (override, e.g., to reshuffle the samples)."""


Sequence = PyDataset
