from pathlib import Path

import pytest

from nexus_labs.config import WORKSPACE_MARKER, ConfigError, load_settings, redact_url


def test_defaults_need_no_server(tmp_path):
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.home == (tmp_path / "nexus-workspace").resolve()
    assert settings.database_url is None and settings.redis_url is None
    assert settings.namespace == "nexus" and settings.scale == 1


def test_kernel_inside_workspace_finds_it_by_marker(tmp_path):
    (tmp_path / WORKSPACE_MARKER).touch()
    nested = tmp_path / "sub"
    nested.mkdir()
    assert load_settings(env={}, cwd=nested).home == tmp_path.resolve()


def test_nexus_home_wins(tmp_path):
    settings = load_settings(env={"NEXUS_HOME": str(tmp_path / "h")}, cwd=Path("/"))
    assert settings.home == (tmp_path / "h").resolve()


@pytest.mark.parametrize("env", [{"NEXUS_SCALE": "0"}, {"NEXUS_SCALE": "many"},
                                 {"NEXUS_NAMESPACE": "Bad-Name;drop"}])
def test_unusable_settings_say_which(env, tmp_path):
    with pytest.raises(ConfigError) as error:
        load_settings(env=env, cwd=tmp_path)
    assert next(iter(env)) in str(error.value)


def test_redact_url_hides_password():
    assert "s3cret" not in redact_url("postgresql://bob:s3cret@db:5432/x")
    assert "bob" in redact_url("postgresql://bob:s3cret@db:5432/x")
    assert "s3cret" not in redact_url("redis://:s3cret@cache:6379/0")
