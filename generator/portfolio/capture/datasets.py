"""The labels of a dataset a script evaluated on without passing ``y``.

``model.evaluate(test_ds)`` on a ``tf.data`` dataset (``text_dataset_from_directory``,
``image_dataset_from_directory``, ``Dataset.from_tensor_slices((x, y)).batch(32)``)
gives capture no targets, so no trivial baseline could be scored on the same data.
Reading the dataset once more for its labels alone costs a pass over its files, not a
pass through the model; a dataset that never ends, or whose elements carry no label,
gives none.
"""

from __future__ import annotations

from typing import Any

_MAX_LABELS = 2_000_000  # more labels than this: not counted (memory stays bounded)


def labels(data: Any, steps: Any = None) -> Any:
    """The labels of a ``tf.data.Dataset`` of ``(inputs, labels)`` batches, as one NumPy
    vector (class indices for one-hot rows); None for anything else."""
    if not type(data).__module__.startswith("tensorflow") or not hasattr(data, "element_spec"):
        return None
    spec = data.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        return None
    import numpy as np

    if int(data.cardinality()) == -1 and not steps:  # tf.data.INFINITE_CARDINALITY
        return None  # (an unknown count, after a filter, is read up to _MAX_LABELS)
    if steps:
        data = data.take(int(steps))
    found, total = [], 0
    for batch in data.map(lambda *element: element[1]).as_numpy_iterator():
        values = np.asarray(batch)
        values = values.reshape(len(values), -1) if values.ndim > 1 else values.reshape(-1)
        total += values.size
        if total > _MAX_LABELS:
            return None
        found.append(values)
    if not found:
        return None
    stacked = np.concatenate(found)
    if stacked.ndim == 2 and stacked.shape[1] == 1:
        stacked = stacked[:, 0]
    elif stacked.ndim == 2:  # one-hot rows: class indices
        if not (np.all(np.isin(stacked, (0, 1))) and np.all(stacked.sum(axis=1) == 1)):
            return None
        stacked = stacked.argmax(axis=1)
    return stacked
