"""fusion: pure label-model computation over label matrices (no database, no I/O).

The data contract everywhere: L is an int array (n_items, n_lfs) with values in
{-1, 0, ..., k-1}, where -1 (ABSTAIN) means the labeling function did not vote.
"""

from fusion.hierarchy import HierarchicalLabelModel, Subtask, TaskTree
from fusion.label_model import LabelModel
from fusion.majority import MajorityVote
from fusion.matrix import ABSTAIN, check_label_matrix
from fusion.types import Explanation

__all__ = [
    "ABSTAIN",
    "Explanation",
    "HierarchicalLabelModel",
    "LabelModel",
    "MajorityVote",
    "Subtask",
    "TaskTree",
    "check_label_matrix",
]
