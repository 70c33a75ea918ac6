"""The production layout (`make serve-prod`): supervisord running nginx on one port in front of
daphne processes, the Celery worker and beat, configured as in production (DEBUG off) but over
plain HTTP.

Everything goes through nginx's one port: pages, the API, static files, uploads, sockets.
"""

import contextlib
import http.client
import json
import re
import secrets
import subprocess

import pytest
import requests
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts.services.tokens import api_token_create
from deploy import nginx
from rooms.services.lifecycle import room_create
from tests.factories import PASSWORD, UserFactory
from tests.support.helpers import image_upload, self_signed_certificate
from tests.support.live import LiveSocket, crashes_in, eventually, room_path, session_cookie
from tests.support.servers import ProductionLayout, production_layout_or_skip

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("thread_connections_closed"),
]

production_layout_or_skip()

SECRET_KEY = secrets.token_urlsafe(50)
REQUEST_MAX_BYTES = 256 * 1024


# The processes' settings: production, but over plain HTTP (no redirect to HTTPS, cookies
# sent without TLS), and therefore with the deployment checks waived.
PRODUCTION = {
    "DEBUG": 0,
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": 0,
    "SECURE_COOKIES": 0,
    "SERVE_INSECURE": 1,
    "THROTTLE_AUTH": "2/min",
    "REQUEST_MAX_BYTES": REQUEST_MAX_BYTES,
}


@contextlib.contextmanager
def _layout(folder, web_processes: int):
    layout = ProductionLayout(folder, web_processes=web_processes, **PRODUCTION).start()
    try:
        yield layout
    finally:
        layout.stop()
    assert not crashes_in(layout.output()), layout.output()


@pytest.fixture(scope="module")
def one_process(django_db_setup, tmp_path_factory):
    """nginx and one web process, shared by the tests that hold no state in them."""
    with _layout(tmp_path_factory.mktemp("layout"), web_processes=1) as layout:
        yield layout


@pytest.fixture
def two_processes(tmp_path, settings):
    """nginx and two web processes; sessions the test signs are signed with their key."""
    settings.SECRET_KEY = SECRET_KEY
    with _layout(tmp_path, web_processes=2) as layout:
        yield layout


def _access_log(layout) -> list[tuple[str, str]]:
    """(request line, upstream) of every request nginx finished."""
    lines = layout.access_log.read_text().splitlines() if layout.access_log.exists() else []
    return [
        (match["request"], match["upstream"])
        for line in lines
        if (match := re.search(r'"(?P<request>[^"]*)" .* upstream=(?P<upstream>\S+)$', line))
    ]


def _sign_in_status(layout, *, client: str, forwarded_for: str | None = None) -> int:
    """Status of a failed sign-in sent from the address `client` (any 127.x is this
    machine), optionally claiming another address in X-Forwarded-For."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", layout.port, timeout=30, source_address=(client, 0)
    )
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    body = json.dumps({"username": "nobody", "password": "wrong"})
    try:
        connection.request("POST", "/api/auth/token/", body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_one_port_serves_pages_api_static_files_and_uploads(one_process):
    layout = one_process
    person = UserFactory(username="behind_nginx")
    _, token = api_token_create(user=person, name="layout")
    auth = {"Authorization": f"Token {token}"}

    page = requests.get(f"{layout.url}/", timeout=30)
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers
    me = requests.get(f"{layout.url}/api/me/", headers=auth, timeout=30)
    assert (me.status_code, me.json()["username"]) == (200, "behind_nginx")

    # Static files: the page's hashed names (collected with the manifest), sent by nginx.
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page.text)[1]
    css = requests.get(f"{layout.url}{stylesheet}", timeout=30)
    assert css.status_code == 200
    assert css.headers["Content-Type"] == "text/css"
    assert "immutable" in css.headers["Cache-Control"]
    assert requests.get(f"{layout.url}/static/missing.css", timeout=30).status_code == 404
    # Nothing that only helps development or an attacker: the manifest, source maps.
    for private in (
        "staticfiles.json",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js.map",
    ):
        assert (layout.folder / "staticfiles" / private).exists()
        assert requests.get(f"{layout.url}/static/{private}", timeout=30).status_code == 404

    # An upload through nginx, stored by a web process, sent back by nginx.
    picture = image_upload()
    uploaded = requests.patch(
        f"{layout.url}/api/me/",
        headers=auth,
        files={"avatar": (picture.name, picture.read(), picture.content_type)},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text
    avatar = requests.get(f"{layout.url}{uploaded.json()['avatar_url']}", timeout=30)
    assert (avatar.status_code, avatar.headers["Content-Type"]) == (200, "image/png")
    assert avatar.headers["X-Content-Type-Options"] == "nosniff"

    # A body over REQUEST_MAX_BYTES: refused by nginx, with the web server's own JSON error.
    too_large = requests.post(
        f"{layout.url}/api/auth/token/",
        data=b"x" * (REQUEST_MAX_BYTES + 1),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "too_large"

    served = dict(_access_log(layout))
    assert served[f"GET {stylesheet} HTTP/1.1"] == "-"
    upstream = f"127.0.0.1:{layout.web_ports[0]}"
    assert served["GET / HTTP/1.1"] == served["GET /api/me/ HTTP/1.1"] == upstream
    assert served[f"GET {uploaded.json()['avatar_url']} HTTP/1.1"] == "-"


def test_a_form_posted_by_a_browser_passes_the_csrf_check_through_nginx(one_process):
    """A browser sends its page's origin, port included, with a form: nginx passed the Host
    without the port, and Django refused every sign-in on a port other than 80 or 443."""
    layout = one_process
    person = UserFactory(username="through_a_browser")
    # Hashed as the server hashes (the tests' own hasher is a faster one it does not take).
    hasher = PBKDF2PasswordHasher()
    type(person).objects.filter(pk=person.pk).update(
        password=hasher.encode(PASSWORD, hasher.salt())
    )
    session = requests.Session()
    session.get(f"{layout.url}/accounts/login/", timeout=30)
    response = session.post(
        f"{layout.url}/accounts/login/",
        data={
            "username": person.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Origin": layout.url, "Referer": f"{layout.url}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert (response.status_code, response.headers.get("Location")) == (302, "/")


def test_each_client_is_known_by_its_own_address_not_nginx_s(one_process):
    """Sign-ins are throttled per client address (2 a minute here): the web process must see
    each client's address, which nginx passes on, and never one a client claims."""
    layout = one_process
    assert [_sign_in_status(layout, client="127.0.0.5") for _ in range(3)] == [400, 400, 429]
    # Claiming another address does not leave the bucket...
    assert _sign_in_status(layout, client="127.0.0.5", forwarded_for="10.1.2.3") == 429
    # ...nor put anyone else into it: another client is counted on its own.
    assert _sign_in_status(layout, client="127.0.0.6", forwarded_for="127.0.0.5") == 400


async def _next_role(socket, user_id: int, role: str) -> dict:
    """The next member.updated that gives this person this role."""
    while True:
        frame = await socket.next_of("member.updated")
        if (frame["member"]["user"]["id"], frame["member"]["role"]) == (user_id, role):
            return frame


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="several web processes share rooms through Redis only"
)
async def test_two_web_processes_behind_one_port_share_a_room(two_processes):
    def people():
        host = UserFactory(username="layout_host")
        guest = UserFactory(username="layout_guest")
        room = room_create(host=host, title="Behind nginx")
        return guest, room, session_cookie(host), session_cookie(guest)

    guest, room, host_cookie, guest_cookie = await database_sync_to_async(people)()
    layout = two_processes

    async with (
        LiveSocket(layout, room_path(room), host_cookie) as on_host,
        LiveSocket(layout, room_path(room), guest_cookie) as on_guest,
    ):
        assert on_host.first["type"] == on_guest.first["type"] == "room.snapshot"
        joined = await on_host.next_of("members.batch")
        assert [m["user"]["username"] for m in joined["joined"]] == ["layout_guest"]
        await on_guest.send("hand.raise")
        raised = await on_host.next_of("member.updated")
        assert (raised["member"]["user"]["id"], raised["member"]["hand_raised"]) == (
            guest.pk,
            True,
        )
        await on_host.send("speaker.invite", user_id=guest.pk)
        assert (await on_guest.next_of("speaker.invited"))["type"] == "speaker.invited"
        await on_guest.send("speaker.accept")
        promoted = await _next_role(on_host, guest.pk, "speaker")
        assert (await _next_role(on_guest, guest.pk, "speaker"))["seq"] == promoted["seq"]

    # nginx logs a socket once it closed: the two went to different web processes.
    async def sockets_logged():
        found = [up for request, up in _access_log(layout) if request.startswith("GET /ws/")]
        return found if len(found) == 2 else None

    upstreams = await eventually(sockets_logged)
    assert sorted(upstreams) == sorted(f"127.0.0.1:{port}" for port in layout.web_ports)


# --- What `python -m deploy.nginx check` refuses, and the configuration it writes ---------


@pytest.fixture
def servable(settings):
    """Settings the layout serves with when the deployment checks are waived."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.WEB_PROCESSES = 1
    settings.PUSH_ALLOW_LOOPBACK = False
    return settings


def test_settings_fit_to_serve_are_not_refused(servable):
    assert nginx.refusals(insecure=True) == []


def test_development_settings_are_refused_unless_said_so(servable):
    servable.DEBUG = True
    [problem] = nginx.refusals(insecure=False)
    assert "security.W018" in problem
    assert "SERVE_INSECURE=1" in problem
    assert nginx.refusals(insecure=True) == []


def test_several_web_processes_without_redis_are_refused(servable):
    servable.WEB_PROCESSES = 2
    servable.REDIS_URL = ""
    assert nginx.refusals(insecure=True) == [
        "Several web processes share rooms through Redis only: set REDIS_URL, or WEB_PROCESSES=1."
    ]


def test_nginx_must_be_trusted_for_client_addresses(servable):
    servable.TRUSTED_PROXIES = ["10.0.0.0/8"]
    [problem] = nginx.refusals(insecure=True)
    assert problem.startswith("TRUSTED_PROXIES must include 127.0.0.1")


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("TRUSTED_PROXIES", ["127.0.0.1", "0.0.0.0/0"], "TRUSTED_PROXIES has 0.0.0.0/0"),
        ("TRUSTED_PROXIES", ["127.0.0.1", "::/0"], "TRUSTED_PROXIES has ::/0"),
        ("ALLOWED_HOSTS", ["*"], "ALLOWED_HOSTS=* answers any Host"),
        ("PUSH_ALLOW_LOOPBACK", True, "PUSH_ALLOW_LOOPBACK=1"),
        ("JANUS_API_SECRET", "x", "JANUS_API_SECRET is shorter than 32 characters"),
        ("JANUS_ADMIN_KEY", "short", "JANUS_ADMIN_KEY is shorter than 32 characters"),
    ],
)
def test_unsafe_settings_are_refused_even_for_a_trial_without_tls(servable, setting, value, said):
    servable.JANUS_URL = "unix:/run/janus.sock"
    servable.JANUS_API_SECRET = servable.JANUS_ADMIN_KEY = "k" * 32
    assert nginx.refusals(insecure=True) == []
    setattr(servable, setting, value)
    [problem] = nginx.refusals(insecure=True)
    assert problem.startswith(said), problem


def test_proxies_of_a_private_network_are_not_refused(servable):
    servable.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8", "fd00::/32"]
    assert nginx.refusals(insecure=True) == []


def test_a_certificate_needs_its_key(servable):
    servable.TLS_CERTIFICATE = "/etc/ssl/audio.pem"
    assert nginx.refusals(insecure=True) == ["TLS_CERTIFICATE and TLS_CERTIFICATE_KEY go together."]


def test_the_configuration_with_tls_is_one_nginx_accepts(servable, tmp_path):
    certificate, key = self_signed_certificate(tmp_path)
    servable.TLS_CERTIFICATE, servable.TLS_CERTIFICATE_KEY = str(certificate), str(key)
    servable.WEB_PROCESSES, servable.WEB_PORT = 3, 9001
    config = nginx.render(tmp_path)
    text = config.read_text()
    assert "ssl_certificate_key" in text
    assert "X-Forwarded-Proto $scheme" in text
    assert [f"127.0.0.1:{port}" for port in (9001, 9002, 9003)] == nginx.upstreams()
    assert all(f"server {address} " in text for address in nginx.upstreams())
    checked = subprocess.run(
        [nginx.NGINX, "-t", "-p", str(tmp_path), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
