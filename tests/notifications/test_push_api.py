"""Subscribing and unsubscribing a browser, the VAPID key, the service worker, and quiet
hours in the settings page and the preferences API."""

from datetime import time
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from notifications import push
from notifications.apis import WALL_CLOCK
from notifications.models import Preferences, PushSubscription
from tests.factories import UserFactory
from tests.notifications.push_service import BrowserKeys

pytestmark = pytest.mark.django_db

URL = "/api/push/subscriptions/"
ENDPOINT = "https://push.example.net/send/abc123"


@pytest.fixture(autouse=True)
def _push_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.VAPID_PRIVATE_KEY = ""
    settings.VAPID_PUBLIC_KEY = ""
    settings.PUSH_ALLOW_LOOPBACK = False


def _body(endpoint=ENDPOINT, keys=None):
    keys = keys or BrowserKeys()
    return {"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}


def test_a_browser_subscribes_and_renews(authed_client, user):
    body = _body()
    answer = authed_client.post(URL, body, format="json", HTTP_USER_AGENT="Firefox/140")
    assert answer.status_code == 201
    assert answer.json()["endpoint"] == ENDPOINT
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.user_agent) == (user, "Firefox/140")
    assert subscription.p256dh == body["keys"]["p256dh"]
    renewed = _body()
    assert authed_client.post(URL, renewed, format="json").status_code == 200
    assert PushSubscription.objects.get().auth == renewed["keys"]["auth"]


def test_the_browsers_own_json_with_padding_and_expiration_is_taken(authed_client):
    body = _body()
    body["keys"]["auth"] += "=="
    body["expirationTime"] = None
    assert authed_client.post(URL, body, format="json").status_code == 201


def test_a_browser_used_by_someone_else_passes_to_the_one_signed_in(authed_client, user):
    """The same browser, its keys and all: the endpoint is now the new account's."""
    keys = BrowserKeys()
    body = _body(keys=keys)
    PushSubscription.objects.create(
        user=UserFactory(), endpoint=ENDPOINT, p256dh=keys.p256dh, auth=keys.auth + "=="
    )
    assert authed_client.post(URL, body, format="json").status_code == 200
    assert PushSubscription.objects.get().user == user


def test_an_endpoint_of_another_account_posted_with_other_keys_is_refused(authed_client, user):
    """Otherwise anyone who learned an endpoint could take its pushes from its owner."""
    owner, keys = UserFactory(), BrowserKeys()
    PushSubscription.objects.create(
        user=owner, endpoint=ENDPOINT, p256dh=keys.p256dh, auth=keys.auth
    )
    response = authed_client.post(URL, _body(), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    held = PushSubscription.objects.get()
    assert (held.user, held.p256dh, held.auth) == (owner, keys.p256dh, keys.auth)


def test_the_oldest_subscription_goes_past_the_limit(authed_client, user, settings):
    settings.PUSH_MAX_SUBSCRIPTIONS = 2
    for n in range(3):
        authed_client.post(URL, _body(f"{ENDPOINT}/{n}"), format="json")
    assert sorted(PushSubscription.objects.values_list("endpoint", flat=True)) == [
        f"{ENDPOINT}/1",
        f"{ENDPOINT}/2",
    ]


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("http://push.example.net/x", "https://"),
        ("https://127.0.0.1/x", "public address"),
        ("https://10.1.2.3/x", "public address"),
        ("https://[::1]/x", "public address"),
        ("https://localhost/x", "public address"),
        ("https://intranet/x", "public address"),
        ("http://127.0.0.1:9/x", "https://"),
    ],
)
def test_an_endpoint_that_is_no_push_service_is_refused(authed_client, endpoint, message):
    answer = authed_client.post(URL, _body(endpoint), format="json")
    assert answer.status_code == 422
    assert message in answer.json()["error"]["message"]
    assert not PushSubscription.objects.exists()


def test_loopback_http_is_allowed_where_the_settings_say(authed_client, settings):
    settings.PUSH_ALLOW_LOOPBACK = True
    assert authed_client.post(URL, _body("http://127.0.0.1:9/x"), format="json").status_code == 201
    assert authed_client.post(URL, _body("http://10.0.0.1/x"), format="json").status_code == 422


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": "not base64!", "auth": BrowserKeys().auth}, "p256dh"),
        ({"p256dh": BrowserKeys().auth, "auth": BrowserKeys().auth}, "p256dh"),
        # 65 bytes that are no point on the curve
        ({"p256dh": push._b64url(b"\x04" + b"\x01" * 64), "auth": BrowserKeys().auth}, "p256dh"),
        ({"p256dh": BrowserKeys().p256dh, "auth": push._b64url(b"short")}, "auth"),
        ({"p256dh": BrowserKeys().p256dh, "auth": "a+b/" * 4}, "auth"),
    ],
)
def test_keys_that_are_not_a_browsers_are_refused(authed_client, keys, field):
    answer = authed_client.post(URL, {"endpoint": ENDPOINT, "keys": keys}, format="json")
    assert answer.status_code == 422
    assert f"keys.{field}" in answer.json()["error"]["message"]


def test_missing_keys_are_a_field_error(authed_client):
    answer = authed_client.post(URL, {"endpoint": ENDPOINT}, format="json")
    assert answer.status_code == 400
    assert "keys" in answer.json()["error"]["fields"]


def test_unsubscribing_forgets_only_ones_own(authed_client, user):
    PushSubscription.objects.create(user=user, endpoint=ENDPOINT, p256dh="x", auth="y")
    other = PushSubscription.objects.create(
        user=UserFactory(), endpoint=f"{ENDPOINT}/other", p256dh="x", auth="y"
    )
    assert (
        authed_client.delete(URL + "?" + urlencode({"endpoint": other.endpoint})).status_code == 404
    )
    assert authed_client.delete(URL + "?" + urlencode({"endpoint": ENDPOINT})).status_code == 204
    assert authed_client.delete(URL).status_code == 400
    assert list(PushSubscription.objects.all()) == [other]


def test_signed_out_people_cannot_subscribe():
    assert APIClient().post(URL, _body(), format="json").status_code in (401, 403)


def test_a_session_needs_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    answer = client.post(URL, _body(), content_type="application/json")
    assert answer.status_code == 403
    assert not PushSubscription.objects.exists()


def test_the_public_key_is_served(authed_client):
    answer = authed_client.get("/api/push/key/")
    assert answer.json() == {"public_key": push.vapid_public_key()}


def test_the_schema_documents_push(authed_client):
    paths = authed_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"post", "delete"} <= set(paths[URL])
    assert [p["name"] for p in paths[URL]["delete"]["parameters"]] == ["endpoint"]
    assert "get" in paths["/api/push/key/"]


# --- The service worker and the settings page ---------------------------------------------


def test_the_service_worker_is_served_from_the_root(client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer["Service-Worker-Allowed"] == "/"
    assert answer["Cache-Control"] == "no-cache"
    source = answer.content.decode()
    assert 'addEventListener("push"' in source
    assert 'addEventListener("notificationclick"' in source


def test_the_settings_page_offers_push_with_the_key(client, user):
    client.force_login(user)
    page = client.get(reverse("notification_settings")).content.decode()
    assert f'data-push-key="{push.vapid_public_key()}"' in page
    assert "js/push.js" in page


def _save(client, **fields):
    data = {"action": "save", "room_started": "on", **fields}
    return client.post(reverse("notification_settings"), data)


def test_quiet_hours_are_saved_from_the_settings_page(client, user):
    client.force_login(user)
    answer = _save(client, quiet_start="22:30", quiet_end="07:00", time_zone="Europe/Berlin")
    assert answer.status_code == 302
    preferences = Preferences.objects.get(user=user)
    assert (preferences.quiet_start, preferences.quiet_end) == (time(22, 30), time(7))
    assert preferences.time_zone == "Europe/Berlin"
    assert _save(client).status_code == 302
    assert Preferences.objects.get(user=user).quiet_start is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quiet_start": "22:00"}, "both a start and an end"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, "no time at all"),
        ({"time_zone": "Mars/Olympus"}, "valid choice"),
    ],
)
def test_quiet_hours_that_make_no_sense_are_refused(client, user, fields, message):
    client.force_login(user)
    answer = _save(client, **fields)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not Preferences.objects.filter(user=user, quiet_start__isnull=False).exists()


def test_quiet_hours_through_the_preferences_api(authed_client, user):
    url = "/api/notifications/preferences/"
    assert authed_client.get(url).json()["quiet_hours"] is None
    body = {"quiet_hours": {"start": "23:00", "end": "06:30"}, "time_zone": "Asia/Tokyo"}
    answer = authed_client.patch(url, body, format="json").json()
    assert (answer["quiet_hours"], answer["time_zone"]) == (
        {"start": "23:00:00", "end": "06:30:00"},
        "Asia/Tokyo",
    )
    assert authed_client.patch(url, {"kinds": {"room_started": False}}, format="json").json()[
        "quiet_hours"
    ] == {"start": "23:00:00", "end": "06:30:00"}
    assert (
        authed_client.patch(url, {"quiet_hours": None}, format="json").json()["quiet_hours"] is None
    )
    bad = authed_client.patch(url, {"time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 422
    assert "not a time zone" in bad.json()["error"]["message"]


@pytest.mark.parametrize("start", ["21:52:14.38036", "21:52:14Z", "21:52+09:00", "9:00", "24:00"])
def test_quiet_hours_are_wall_clock_times_without_fractions_or_offsets(authed_client, start):
    """Fuzzing sent 21:52:14.38036Z and 23:04:38Z: taken, and written back as times without
    the offset, which the schema's RFC 3339 time format refused. A quiet hour is a time on
    the person's own clock: HH:MM or HH:MM:SS, nothing else."""
    body = {"quiet_hours": {"start": start, "end": "02:57:34"}}
    answer = authed_client.patch("/api/notifications/preferences/", body, format="json")
    assert answer.status_code == 400
    assert "HH:MM or HH:MM:SS" in answer.json()["error"]["message"]
    assert authed_client.get("/api/notifications/preferences/").json()["quiet_hours"] is None


def test_the_schema_gives_quiet_hours_as_wall_clock_times():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for name in ("QuietHours", "QuietHoursRequest"):
        start = schema["components"]["schemas"][name]["properties"]["start"]
        assert "format" not in start
        assert start["pattern"] == WALL_CLOCK
