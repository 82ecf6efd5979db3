"""The EM steps' helpers."""

from __future__ import annotations

import torch

from fusion.em import posterior, softmax_rows


def test_softmax_rows_equals_torch_softmax_including_masked_classes() -> None:
    logits = torch.randn(1000, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    logits[0] = torch.tensor([800.0, 799.0, -800.0, 0.0])  # large values stay finite
    assert torch.allclose(softmax_rows(logits), torch.softmax(logits, dim=1), atol=1e-15)
    allowed = torch.ones(1000, 4, dtype=torch.bool)
    allowed[:, 1] = False
    masked = posterior(logits, allowed)
    assert torch.all(masked[:, 1] == 0)
    assert torch.allclose(masked.sum(dim=1), torch.ones(1000, dtype=torch.float64))
