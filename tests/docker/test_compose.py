"""docker/compose.yaml, checked without a Docker engine (none on the development
machines): two services from one image on a shared data volume, health checks, restart
policies, graceful stops, and every `labelwatch ...` command they run is one our CLI
parser accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor import cli
from auditor.settings import load_settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
SERVICES = {"scheduler", "dashboard"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def seconds(duration: str) -> float:
    """A compose duration ("1m30s", "45s", "2m") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    unit = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}
    return sum(float(n) * unit[u] for n, u in parts)


def labelwatch_argvs(command: list[str] | str) -> list[list[str]]:
    """Every `labelwatch ...` invocation in a compose command, entrypoint or health test
    (exec form, ``sh -c`` scripts and CMD-SHELL strings split on && || ; |)."""
    if isinstance(command, str):
        return _script_argvs(command)
    if command[:1] == ["CMD"]:
        command = command[1:]
    elif command[:1] == ["CMD-SHELL"]:
        return _script_argvs(" ".join(command[1:]))
    if command[:2] in (["sh", "-c"], ["/bin/sh", "-c"], ["bash", "-c"]):
        return _script_argvs(command[2])
    return [command[1:]] if command[:1] == ["labelwatch"] else []


def _script_argvs(script: str) -> list[list[str]]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    argvs: list[list[str]] = []
    current: list[str] = []
    for token in [*lexer, ";"]:
        if token in {";", "&&", "||", "|", "&"}:
            while current[:1] == ["exec"]:
                current = current[1:]
            if current[:1] == ["labelwatch"]:
                argvs.append(current[1:])
            current = []
        else:
            current.append(token)
    return argvs


def test_the_helper_finds_labelwatch_commands_in_every_form() -> None:
    assert labelwatch_argvs(["labelwatch", "status"]) == [["status"]]
    assert labelwatch_argvs(["CMD", "labelwatch", "health"]) == [["health"]]
    assert labelwatch_argvs(["sh", "-c", "labelwatch init && exec labelwatch run all"]) == [
        ["init"],
        ["run", "all"],
    ]
    assert labelwatch_argvs(["CMD-SHELL", "labelwatch health || exit 1"]) == [["health"]]
    assert labelwatch_argvs(["python", "-c", "print(1)"]) == []


def test_two_services_from_one_image(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES
    images = {name: service.get("image") for name, service in services.items()}
    assert len(set(images.values())) == 1 and None not in images.values(), images
    builds = [service["build"] for service in services.values() if "build" in service]
    assert builds, "the image is built by compose"
    for build in builds:  # every build section builds the same Dockerfile
        assert build == builds[0]
        context = (DOCKER / build["context"]).resolve()
        assert (context / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"


def test_the_cpu_torch_default_can_be_swapped_for_cuda(services: dict[str, dict[str, Any]]) -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text("utf-8")
    assert re.search(r"^ARG TORCH_INDEX=https://download\.pytorch\.org/whl/cpu$", dockerfile, re.M)
    assert '--index-url "${TORCH_INDEX}"' in dockerfile
    for service in services.values():
        arg = service["build"]["args"]["TORCH_INDEX"]
        assert arg == "${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"


def test_the_services_share_the_data_volume_holding_the_database(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    mounts = {}
    for name, service in services.items():
        volumes = [v for v in service["volumes"] if isinstance(v, str)]
        named = [v.split(":")[:2] for v in volumes if not v.startswith((".", "/"))]
        assert len(named) == 1, (name, volumes)
        mounts[name] = tuple(named[0])
    assert len(set(mounts.values())) == 1, mounts
    volume, target = mounts["scheduler"]
    assert volume in (compose.get("volumes") or {})
    # the image's settings put every data file on that volume
    dockerfile = (DOCKER / "Dockerfile").read_text("utf-8")
    env = dict(re.findall(r"(LABELWATCH_\w+)=(\S+)", dockerfile))
    settings = load_settings(env=env)
    for path in (settings.db_path, settings.users_file, settings.scheduler_db, settings.rules_dir):
        assert Path(target) in path.parents, path
    assert settings.data_dir == Path(target)  # where `labelwatch health` reads the heartbeat


def test_health_checks(services: dict[str, dict[str, Any]]) -> None:
    scheduler = services["scheduler"]["healthcheck"]
    assert scheduler["test"] == ["CMD", "labelwatch", "health"]
    dashboard = services["dashboard"]["healthcheck"]
    probe = " ".join(dashboard["test"])
    port = services["dashboard"]["command"][services["dashboard"]["command"].index("--port") + 1]
    assert f"http://localhost:{port}/_stcore/health" in probe
    assert f"{port}:{port}" in services["dashboard"]["ports"]
    for check in (scheduler, dashboard):
        assert check["retries"] >= 1
        assert seconds(check["timeout"]) < seconds(check["interval"])
        assert seconds(check["start_period"]) > 0


def test_restart_policies_and_graceful_stops(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service["restart"] in {"always", "unless-stopped", "on-failure"}, name
        assert service.get("init") is True, f"{name}: no init to forward signals"
        assert service.get("stop_signal", "SIGTERM") == "SIGTERM"
        assert seconds(service["stop_grace_period"]) >= 10
    # the scheduler finishes or cancels its running job on SIGTERM: give it the longest
    assert seconds(services["scheduler"]["stop_grace_period"]) >= 60
    assert seconds(services["scheduler"]["stop_grace_period"]) >= seconds(
        services["dashboard"]["stop_grace_period"]
    )


def test_the_scheduler_initialises_the_database_before_it_starts(
    services: dict[str, dict[str, Any]],
) -> None:
    argvs = labelwatch_argvs(services["scheduler"]["command"])
    assert [argv[0] for argv in argvs] == ["init", "scheduler"]
    assert "exec labelwatch scheduler" in services["scheduler"]["command"][-1]  # gets SIGTERM
    assert labelwatch_argvs(services["dashboard"]["command"])[0][0] == "dashboard"


def test_every_labelwatch_command_is_one_the_cli_accepts(
    services: dict[str, dict[str, Any]],
) -> None:
    parser = cli.build_parser()
    found: list[tuple[str, str, list[str]]] = []
    for name, service in services.items():
        for key in ("command", "entrypoint"):
            if key in service:
                found += [(name, key, argv) for argv in labelwatch_argvs(service[key])]
        found += [
            (name, "healthcheck", argv) for argv in labelwatch_argvs(service["healthcheck"]["test"])
        ]
    assert {argv[0] for _, _, argv in found} >= {"init", "scheduler", "dashboard", "health"}
    for name, key, argv in found:
        try:
            args = parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{name} {key}: `labelwatch {shlex.join(argv)}` is not a valid command")
        assert args.command in cli.COMMANDS, (name, key, argv)


def test_the_environment_is_valid_settings(services: dict[str, dict[str, Any]]) -> None:
    for service in services.values():
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        ours = {k: v for k, v in env.items() if k.startswith("LABELWATCH_")}
        settings = load_settings(env=ours)  # SettingsError on an unknown key or bad value
        for key, value in ours.items():
            name = key.removeprefix("LABELWATCH_").lower()
            if "__" not in name:
                assert str(getattr(settings, name)) == value, key
