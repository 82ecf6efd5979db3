"""Logging for the entry points: plain text, or JSON lines (log_format = "json")."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

# attributes every LogRecord has; anything else was passed with extra= and is a field
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the record's extra fields and,
    for an exception, its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            body["traceback"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(log_format: str = "text", *, level: int = logging.INFO) -> None:
    """Replace the root handlers with one stderr handler in the chosen format."""
    if log_format not in ("text", "json"):
        raise ValueError(f"log_format must be text or json, got {log_format!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLinesFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
