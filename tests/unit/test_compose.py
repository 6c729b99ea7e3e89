"""Static checks of docker-compose.yml: it parses, its files exist, images and settings are valid.

No Docker engine is needed; these tests read the files only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from streamproc.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"

# The one setting with an alias outside the STREAMPROC_ prefix (see Settings).
EXTRA_SETTINGS = {"KAFKA_BOOTSTRAP_SERVERS"}


def load_compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = load_compose()["services"]
    return result


def is_host_path(source: str) -> bool:
    """Whether a volume source is a host path (bind mount) rather than a named volume."""
    return source.startswith((".", "/", "~"))


def mounted_paths(service: dict[str, Any]) -> list[str]:
    """Return the relative host paths a service needs: build context, Dockerfile, binds, env files."""
    paths: list[str] = []

    build = service.get("build")
    if isinstance(build, str):
        paths.append(build)
    elif isinstance(build, dict):
        context = build.get("context", ".")
        paths.append(context)
        paths.append(str(Path(context) / build.get("dockerfile", "Dockerfile")))

    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source = volume.split(":", 1)[0]
        else:
            source = volume.get("source", "") if volume.get("type") == "bind" else ""
        if source and is_host_path(source):
            paths.append(source)

    env_files = service.get("env_file", [])
    paths.extend([env_files] if isinstance(env_files, str) else env_files)
    return paths


def environment_names(service: dict[str, Any]) -> list[str]:
    """Return the variable names a service sets, from the map or the list form."""
    environment = service.get("environment", {})
    if isinstance(environment, dict):
        return list(environment)
    return [entry.split("=", 1)[0] for entry in environment]


def image_tag(image: str) -> str | None:
    """Return the tag of an image reference, or None when it has none."""
    name = image.split("@", 1)[0]
    last_part = name.rsplit("/", 1)[-1]
    if ":" not in last_part:
        return None
    return last_part.rsplit(":", 1)[1]


def allowed_settings() -> set[str]:
    return {f"STREAMPROC_{name.upper()}" for name in Settings.model_fields} | EXTRA_SETTINGS


def test_compose_parses() -> None:
    """The file is YAML with a non-empty services map."""
    document = load_compose()

    assert isinstance(document, dict)
    assert services()


def test_expected_services() -> None:
    """Kafka, topic set-up, worker, simulator and Prometheus are all defined."""
    assert set(services()) >= {"kafka", "topic-init", "worker", "simulator", "prometheus"}


@pytest.mark.parametrize("name", sorted(services()))
def test_mounted_paths_exist(name: str) -> None:
    """Every host path a service builds from or mounts exists in the repository."""
    for path in mounted_paths(services()[name]):
        assert (ROOT / path).exists(), f"service {name} needs {path}, which does not exist"


@pytest.mark.parametrize("name", sorted(services()))
def test_image_pinned(name: str) -> None:
    """Every image names an explicit tag other than latest."""
    image = services()[name].get("image")
    if image is None:
        pytest.skip(f"service {name} has no image")
    tag = image_tag(image)

    assert tag is not None, f"service {name}: image {image} has no tag"
    assert tag != "latest", f"service {name}: image {image} is not pinned"


@pytest.mark.parametrize("name", sorted(services()))
def test_settings_names(name: str) -> None:
    """Every STREAMPROC_* variable names a field of Settings."""
    allowed = allowed_settings()
    for variable in environment_names(services()[name]):
        if variable.startswith("STREAMPROC_"):
            assert variable in allowed, f"service {name}: {variable} is not a setting"


def copied_sources(dockerfile: Path) -> list[str]:
    """Return the build-context paths of the Dockerfile's COPY and ADD lines (no --from stages)."""
    sources: list[str] = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() not in {"COPY", "ADD"}:
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from") for word in words[1:]):
            continue
        sources.extend(arguments[:-1])
    return sources


def test_dockerfile_copies_exist() -> None:
    """Every file the Dockerfile copies from the build context exists."""
    dockerfile = ROOT / "Dockerfile"
    sources = copied_sources(dockerfile)

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_streamproc_services_reach_kafka() -> None:
    """Each service built from the repository sets the bootstrap servers."""
    built = {name: s for name, s in services().items() if "build" in s}

    assert built
    for name, service in built.items():
        names = set(environment_names(service))
        assert names & {"STREAMPROC_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"}, name


def test_worker_metrics_scraped() -> None:
    """Prometheus scrapes the worker on the metrics port the worker is given."""
    worker_port = services()["worker"]["environment"]["STREAMPROC_METRICS_PORT"]
    prometheus = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    targets = [
        target
        for job in prometheus["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    ]

    assert f"worker:{worker_port}" in targets


def test_worker_listens_beyond_loopback() -> None:
    """Inside its container the worker binds every interface, so Prometheus can reach it."""
    environment = services()["worker"]["environment"]

    assert environment["STREAMPROC_METRICS_HOST"] == "0.0.0.0"


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("apache/kafka:4.1.1", "4.1.1"),
        ("localhost:5000/streamproc", None),
        ("prom/prometheus", None),
        ("python:3.11-slim@sha256:abc", "3.11-slim"),
    ],
)
def test_image_tag(image: str, tag: str | None) -> None:
    """A registry port is not a tag, and a digest does not hide the tag."""
    assert image_tag(image) == tag
