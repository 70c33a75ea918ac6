"""The standing API fuzz: schemathesis generates requests from the served OpenAPI schema
(`/api/schema/`), valid and not, for every operation, and sends them to a real daphne
process, once anonymously and once signed in with an API token.

Every answer must be documented: no 5xx, a status the operation lists, a content type it
lists, a body and headers that match its schema. Example counts are bounded so the suite
stays well under two minutes.
"""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from accounts.services.tokens import api_token_create
from tests.factories import UserFactory
from tests.support.helpers import openapi_schema
from tests.support.servers import ServerProcess

# Every check schemathesis has but two, which the runner's test below runs: a request the
# schema allows but a rule refuses (a time in the past, a picture that is not one) gets a
# 422, which `positive_data_acceptance` takes only as configured there; and
# `negative_data_rejection` needs the coverage phase's requests.
RUNNER_CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_header_conformance,
    missing_required_header,
    ignored_auth,
]
# Transactional: the server process sees what each test writes, and the rows it and the
# fuzzing make are flushed after each test. Marked, so that pytest-django sets up the test
# database even when only this module runs (it sets up only what marked tests ask for).
pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def api_server(django_db_setup):
    """A daphne process configured as in production (DEBUG off: errors under /api/ are JSON,
    not Django's debug pages), on the test database and shared by the module."""
    process = ServerProcess(
        DEBUG=0,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT=0,
    ).start()
    yield process
    process.stop()


@pytest.fixture
def token_header():
    """A person and a token per operation (a fuzzed DELETE of the person's tokens may revoke
    one; the test's flush takes both away)."""
    _, key = api_token_create(user=UserFactory(), name="Fuzz")
    return {"Authorization": f"Token {key}"}


# Generated here rather than fetched, so that the tests exist before the server does.
schema = schemathesis.openapi.from_dict(openapi_schema())


@schema.parametrize()
@FUZZ
def test_anonymous_requests_get_documented_answers(case, api_server):
    case.call_and_validate(base_url=api_server.url, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_signed_in_requests_get_documented_answers(case, api_server, token_header):
    case.call_and_validate(base_url=api_server.url, headers=token_header, checks=CHECKS)


def test_the_schema_and_the_api_agree_under_every_check(api_server, token_header, tmp_path):
    """schemathesis's own runner, which adds what the tests above leave out: requests the
    schema forbids (each must be refused), its coverage phase (boundaries, missing and
    unexpected methods and headers) and every check, `positive_data_acceptance` with 422
    among the answers a request the schema allows may get (RUNNER_CONFIG). A fixed seed: the same requests every run; it runs in a scratch directory, so
    the runner's cache of earlier failures stays out of the checkout and out of the next run."""
    runner = Path(sys.executable).with_name("schemathesis")
    command = [
        str(runner),
        "--config-file",
        str(RUNNER_CONFIG),
        "run",
        f"{api_server.url}/api/schema/",
        "--checks",
        "all",
        "--header",
        f"Authorization: {token_header['Authorization']}",
        "--max-examples",
        "10",
        "--seed",
        "1",
        "--no-color",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout[-30000:] + done.stderr[-3000:]
