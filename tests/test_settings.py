"""Settings as a deployment meets them: read in a fresh process from the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import _redis_url_with_next_db, served_at

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-of-some-length-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "roundtable.example.com",
}


def _manage(*args, env):
    given = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "HOST", "PORT")
    clean = {k: v for k, v in os.environ.items() if k not in given}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_secrets(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://:pw@redis.internal:6380/4", "redis://:pw@redis.internal:6380/5"),
    ],
)
def test_the_cache_gets_the_next_redis_database(url, expected):
    assert _redis_url_with_next_db(url) == expected


def test_the_last_redis_database_asks_for_a_cache_url():
    with pytest.raises(ImproperlyConfigured, match="Set CACHE_URL"):
        _redis_url_with_next_db("redis://127.0.0.1:6379/15")
    env = {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/15"}
    refused = _manage("check", env=env)
    assert refused.returncode != 0
    assert "Set CACHE_URL" in refused.stderr
    allowed = _manage("check", env={**env, "CACHE_URL": "redis://127.0.0.1:6379/14"})
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize(
    "weak",
    ["short-key", "django-insecure-" + "k" * 60, "ab" * 40],
    ids=["short", "django-insecure", "few-characters"],
)
def test_production_refuses_a_weak_secret_key(weak):
    result = _manage("check", env={**PRODUCTION, "SECRET_KEY": weak})
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 8123, "http://127.0.0.1:8123"),  # noqa: S104 (an address listened on)
        ("roundtable.local", 80, "http://roundtable.local:80"),
        ("::", 9000, "http://[::1]:9000"),
        ("fd00::5", 9000, "http://[fd00::5]:9000"),
    ],
)
def test_a_server_is_reached_where_it_listens(host, port, url):
    assert served_at(host, port) == url


def test_links_point_where_make_run_serves_unless_site_url_is_set():
    show = (
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL)",
    )
    env = {"DEBUG": "1", "HOST": "0.0.0.0", "PORT": "8123"}  # noqa: S104 (make run's HOST)
    served = _manage(*show, env=env)
    assert served.stdout.strip() == "http://127.0.0.1:8123", served.stderr
    chosen = _manage(*show, env={**env, "SITE_URL": "https://audio.example.org"})
    assert chosen.stdout.strip() == "https://audio.example.org", chosen.stderr
