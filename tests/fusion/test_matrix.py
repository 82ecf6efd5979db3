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


def test_lf_vote_summary_counts_every_row_including_the_unfolded_tail() -> None:
    from fusion.validation import FOLD, lf_vote_summary

    rng = np.random.default_rng(0)
    L = rng.integers(-1, 3, size=(3 * FOLD + 5, 4)).astype(np.int8)
    L[:, 3] = -1
    L[-1, 3] = 2  # the only vote of LF 3 sits in the tail
    emitted, votes = lf_vote_summary(L, 3)
    expected = np.stack([np.equal(L, v).any(axis=0) for v in range(3)], axis=1)
    assert (emitted == expected).all()
    assert votes.tolist() == (L != -1).sum(axis=0).tolist()
    assert emitted[3].tolist() == [False, False, True] and votes[3] == 1
