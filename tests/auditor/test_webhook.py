"""Webhook delivery against a real local HTTP server: the exact JSON, and failures that
come back as results instead of exceptions."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from auditor.webhook import post_alerts

ALERT = {
    "alert_id": 7,
    "severity": "warning",
    "metric": "calibration.ece",
    "scope": "topic",
    "key": "fused",
    "message": "ECE 0.081 above 0.050",
    "first_seen": dt.datetime(2026, 10, 1, 12, 0),
    "last_seen": dt.datetime(2026, 10, 1, 12, 15, 30),
    "state": "open",
    "resolved_at": None,
}


class Server(ThreadingHTTPServer):
    answer = 200
    received: list[tuple[str, str, dict[str, str], bytes]]


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        self.send_response(self.server.answer)
        if 300 <= self.server.answer < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.received = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def url(server: Server, path: str = "/hook/secret-token") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_posts_exactly_one_json_body_with_iso_datetimes(server: Server) -> None:
    result = post_alerts(url(server), [ALERT, {**ALERT, "alert_id": 8}], timeout_s=5)
    assert (result.ok, result.status, result.error) == (True, 200, None)
    [(method, path, headers, body)] = server.received
    assert (method, path) == ("POST", "/hook/secret-token")
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["source"] == "labelwatch"
    assert [a["alert_id"] for a in payload["alerts"]] == [7, 8]
    assert payload["alerts"][0] == {
        **ALERT,
        "first_seen": "2026-10-01T12:00:00",
        "last_seen": "2026-10-01T12:15:30",
    }


def test_a_server_error_is_a_result_not_an_exception(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    server.answer = 500
    with caplog.at_level(logging.WARNING, logger="auditor.webhook"):
        result = post_alerts(url(server), [ALERT], timeout_s=5)
    assert (result.ok, result.status) == (False, 500)
    assert result.error is not None and "500" in result.error
    assert len(server.received) == 1
    assert "500" in caplog.text
    assert "secret-token" not in caplog.text  # the path may carry a secret


def test_a_redirect_is_reported_not_followed(server: Server) -> None:
    server.answer = 302
    result = post_alerts(url(server), [ALERT], timeout_s=5)
    assert (result.ok, result.status) == (False, 302)
    assert len(server.received) == 1  # no bodyless GET re-sent to /elsewhere


def test_a_closed_port_is_a_result_not_an_exception(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="auditor.webhook"):
        result = post_alerts(f"http://127.0.0.1:{port}/hook", [ALERT], timeout_s=2)
    assert result.ok is False and result.status is None
    assert result.error
    assert "webhook" in caplog.text


def test_a_server_that_never_answers_times_out_as_a_result() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        port = silent.getsockname()[1]
        result = post_alerts(f"http://127.0.0.1:{port}/", [ALERT], timeout_s=0.2)
    assert result.ok is False and result.status is None and result.error


def test_nothing_to_send_sends_nothing(server: Server) -> None:
    empty = post_alerts(url(server), [])
    unset = post_alerts("", [ALERT])
    assert empty.ok and unset.ok and empty.note and unset.note
    assert empty.status is None and unset.status is None
    assert server.received == []


@pytest.mark.parametrize(
    "bad", ["file:///etc/passwd", "ftp://example.com/hook", "example.com/hook", "http://"]
)
def test_only_http_urls_are_accepted(bad: str) -> None:
    with pytest.raises(ValueError, match="http"):
        post_alerts(bad, [ALERT])
