"""Saving a fitted label model: config.json (format version, settings) + params.npz.

No pickles: arrays go through numpy's npz with allow_pickle=False on load, and the config
is plain JSON, so a saved model can be read (and checked) without running any code.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from fusion.label_model import LabelModel

FORMAT_VERSION = 1


def save_model(model: LabelModel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "format_version": FORMAT_VERSION,
        "model": "LabelModel",
        **asdict(model.config),
        "temperature": model.temperature_,
        "n_iter": model.n_iter_,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2), "utf-8")
    np.savez(folder / "params.npz", **model.state_arrays())  # type: ignore[arg-type]


def load_model(folder: Path, *, device: str = "auto") -> LabelModel:
    """A LabelModel from save_model's folder; ValueError for another format or model."""
    config = json.loads((folder / "config.json").read_text("utf-8"))
    if config.pop("format_version", None) != FORMAT_VERSION or config.pop("model", None) != (
        "LabelModel"
    ):
        raise ValueError(f"{folder}: not a LabelModel saved in format {FORMAT_VERSION}")
    temperature, n_iter = config.pop("temperature"), config.pop("n_iter")
    model = LabelModel(config.pop("cardinality"), device=device, **config)
    with np.load(folder / "params.npz", allow_pickle=False) as params:
        model.restore(
            {name: params[name] for name in params.files}, temperature=temperature, n_iter=n_iter
        )
    return model
