from __future__ import annotations

import numpy as np
import pytest

from fusion import ABSTAIN, check_label_matrix


def test_valid_matrix_is_returned_as_int64() -> None:
    L = check_label_matrix(np.array([[0, -1], [1, 2]], dtype=np.int8), cardinality=3)
    assert L.dtype == np.int8 and ABSTAIN == -1  # no copy for integer input


@pytest.mark.parametrize(
    ("L", "message"),
    [
        (np.array([0, 1]), "must be 2-D"),
        (np.array([[0, 3]]), r"L\[0, 1\] = 3 is neither -1"),
        (np.array([[0, -2]]), r"L\[0, 1\] = -2"),
        (np.array([[0.5, 1.0]]), "integer labels"),
    ],
)
def test_bad_matrices_name_the_entry(L: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_label_matrix(L, cardinality=3)
