"""Settings as a deployment meets them: read in a fresh process from the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import _redis_url_with_next_db

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-of-some-length-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "roundtable.example.com",
}


def _manage(*args, env):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
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
