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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:s3cret@db:5432/x", "postgresql://bob:***@db:5432/x"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("amqp://guest:s3cret@127.0.0.1:5672//", "amqp://guest:***@127.0.0.1:5672//"),
        # libpq and redis-py also read a password from the query string
        ("postgresql://bob@db/x?sslmode=require&password=s3cret",
         "postgresql://bob@db/x?sslmode=require&password=***"),
        ("redis://cache:6379/0?PASSWORD=s3cret", "redis://cache:6379/0?PASSWORD=***"),
        # an unencoded "@" or "/" in the password: the last "@" ends the credentials
        ("redis://:p@ss/w0rd@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql://bob:s3cret@/x?host=/tmp", "postgresql://bob:***@/x?host=/tmp"),
        ("postgresql//bob:s3cret@db/x", "postgresql//bob:***@db/x"),  # a typo'd URL too
        # nothing secret: unchanged, not re-encoded
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test",
         "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_redact_url_hides_every_password_and_keeps_the_rest(url, shown):
    assert redact_url(url) == shown
