"""Start the long-running processes: the dashboard and the scheduler, alone or together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

from auditor.settings import Settings


def dashboard_app_path() -> Path:
    """Where the dashboard's entry script is; found, not imported (dashboard -> auditor)."""
    spec = find_spec("dashboard")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the dashboard package is not installed")
    return Path(spec.origin).parent / "streamlit_app.py"


def dashboard_command(settings: Settings, *, port: int | None = None) -> list[str]:
    app = dashboard_app_path()
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port or settings.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def _child_env(settings: Settings, config: Path | None) -> dict[str, str]:
    """The children read the same settings: pass the resolved paths through the env."""
    env = dict(os.environ)
    env["LABELWATCH_DB_PATH"] = str(settings.db_path.resolve())
    env["LABELWATCH_USERS_FILE"] = str(settings.users_file.resolve())
    if config is not None:
        env["LABELWATCH_CONFIG"] = str(config.resolve())
    return env


def serve(settings: Settings, *, port: int | None = None, config: Path | None = None) -> int:
    """Run scheduler and dashboard as two processes until Ctrl-C / SIGTERM or one exits."""
    env = _child_env(settings, config)
    children = [
        subprocess.Popen([sys.executable, "-m", "auditor.cli", "scheduler"], env=env),
        subprocess.Popen(dashboard_command(settings, port=port), env=env),
    ]
    print(
        f"labelwatch is up: dashboard on http://localhost:{port or settings.dashboard_port} "
        "(Ctrl-C stops both)",
        flush=True,
    )
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        exited = [c for c in children if c.poll() is not None]
        if exited:
            code = exited[0].returncode or 0
            break
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    return code
