"""POST new alerts as one JSON body to a webhook (standard library only).

A monitoring job must not fail because a webhook is down: network and HTTP errors come
back as WebhookResult(ok=False, ...) and a logged warning, never as an exception. Only a
misconfigured URL (not http or https) raises. Logs name only the scheme and host, since
webhook paths often carry a secret token.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.message import Message
from typing import IO
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SOURCE = "labelwatch"


@dataclass(frozen=True)
class WebhookResult:
    """ok: delivered with a 2xx answer, or nothing to send; status: the HTTP status, None
    when no answer came; error: why it failed; note: why nothing was sent."""

    ok: bool
    status: int | None = None
    error: str | None = None
    note: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a 3xx instead of following it: urllib would re-send a POST as a bodyless GET."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None


def post_alerts(
    url: str, alerts: Sequence[Mapping[str, object]], *, timeout_s: float = 5.0
) -> WebhookResult:
    """POST {"source": "labelwatch", "alerts": [...]} as application/json to url.

    Empty url or no alerts: nothing is sent (ok=True, with a note). Datetimes and dates
    are sent as ISO-8601 strings. Raises ValueError only for a URL that is not http(s).
    """
    if not url:
        return WebhookResult(ok=True, note="no webhook URL configured; nothing sent")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"webhook URL must be http:// or https:// with a host, got {url!r}")
    if not alerts:
        return WebhookResult(ok=True, note="no alerts; nothing sent")
    body = json.dumps(
        {"source": SOURCE, "alerts": [dict(alert) for alert in alerts]}, default=_json_value
    ).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": SOURCE},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    where = f"{parts.scheme}://{parts.netloc}"
    try:
        with opener.open(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # a non-2xx answer (HTTPError is also OSError)
        log.warning("webhook %s answered HTTP %s for %d alerts", where, exc.code, len(alerts))
        return WebhookResult(ok=False, status=exc.code, error=f"HTTP {exc.code}: {exc.reason}")
    except (OSError, http.client.HTTPException) as exc:  # refused, unreachable, timeout
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        log.warning("webhook %s failed for %d alerts: %s", where, len(alerts), error)
        return WebhookResult(ok=False, error=error)
    if not 200 <= status < 300:
        log.warning("webhook %s answered HTTP %s for %d alerts", where, status, len(alerts))
        return WebhookResult(ok=False, status=status, error=f"HTTP {status}")
    return WebhookResult(ok=True, status=status)


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    return str(value)
