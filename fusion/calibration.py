"""Temperature scaling: one scalar T so that softmax(logits / T) is calibrated on gold."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """T in [0.05, 20] minimising the negative log-likelihood of y under softmax(logits/T).

    logits: float (n, k); y: int (n,). Guo et al. 2017, "On Calibration of Modern Neural
    Networks"; the argmax (and so accuracy) does not change.
    """
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[rows, y].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))
