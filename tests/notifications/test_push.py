"""Web Push: the real pywebpush encryption and VAPID signature, posted to a push service of
the test's own and decrypted with the browser's keys; what is pushed, when it is not, and
what a push service's answer does to a subscription."""

import socket
import stat
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid

from notifications import push, tasks
from notifications.models import Notification, Preferences, PushSubscription
from notifications.services import reminders_send
from rooms.services.lifecycle import room_create, room_end
from rooms.services.stage import room_invite
from tests.factories import FollowFactory, UserFactory
from tests.notifications.push_service import BrowserKeys, PushService, vapid_claims

Kind = Notification.Kind
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _push_settings(settings, tmp_path):
    settings.PUSH_ALLOW_LOOPBACK = True
    settings.VAR_DIR = tmp_path
    settings.VAPID_PRIVATE_KEY = ""
    settings.VAPID_PUBLIC_KEY = ""
    settings.VAPID_SUBJECT = "mailto:ops@example.org"


@pytest.fixture
def service():
    running = PushService().start()
    yield running
    running.stop()


def _subscribe(user, service, name=None):
    keys = BrowserKeys()
    push.push_subscription_save(
        user=user,
        endpoint=service.endpoint(name or f"user-{user.pk}-{keys.auth}"),
        p256dh=keys.p256dh,
        auth=keys.auth,
    )
    return keys


def _fan(host, service):
    fan = FollowFactory(followee=host).follower
    return fan, _subscribe(fan, service)


def test_a_room_started_reaches_a_followers_device_encrypted_for_it(host, committed, service):
    fan, keys = _fan(host, service)
    with committed():
        room = room_create(host=host, title="Now")
    [received] = service.received
    notification = Notification.objects.get(recipient=fan, kind=Kind.ROOM_STARTED)
    assert keys.decrypt(received.body) == {
        "title": "Host started “Now”",
        "body": "Live now. Tap to listen.",
        "url": reverse("notification_open", args=[notification.pk]),
        "tag": f"room:{room.pk}",
        "kind": "room_started",
    }
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["ttl"] == "3600"
    assert received.headers["topic"] == push.push_topic(f"room:{room.pk}")
    claims = vapid_claims(received.headers["authorization"], push.vapid_public_key())
    assert claims["aud"] == service.origin
    assert claims["sub"] == "mailto:ops@example.org"
    assert claims["exp"] > timezone.now().timestamp()
    assert notification.pushed_at is not None
    assert PushSubscription.objects.get(user=fan).last_success is not None


def test_every_device_of_a_person_gets_the_push(host, committed, service):
    fan, phone = _fan(host, service)
    laptop = _subscribe(fan, service, name="laptop")
    with committed():
        room_create(host=host, title="Now")
    by_path = {r.path: r for r in service.received}
    assert len(by_path) == 2
    assert laptop.decrypt(by_path["/push/laptop"].body)["kind"] == "room_started"
    other = next(r for p, r in by_path.items() if p != "/push/laptop")
    assert phone.decrypt(other.body)["kind"] == "room_started"


def test_starting_soon_lives_until_the_start(host, committed, service, settings):
    _, keys = _fan(host, service)
    start = timezone.now() + timedelta(minutes=8)
    with committed():
        room_create(host=host, title="Later", scheduled_for=start)
    assert service.received == []  # "scheduled" stays in the app
    with committed():
        reminders_send()  # the minute task
    [received] = service.received
    assert keys.decrypt(received.body)["title"] == "“Later” starts soon"
    assert 7 * 60 - 5 <= int(received.headers["ttl"]) <= 8 * 60


def test_an_invitation_to_speak_is_pushed(host, committed, service):
    guest = FollowFactory(
        followee=host, follower__username="guest", follower__display_name="Guest"
    ).follower
    keys = _subscribe(guest, service)
    room = room_create(host=host, title="Now")
    with committed():
        room_invite(actor=host, room_id=room.pk, user=guest)
    [received] = service.received
    assert keys.decrypt(received.body)["title"] == "Host invites you to speak in “Now”"


@pytest.fixture
def enqueued(monkeypatch):
    """Push tasks enqueued, held back for the test to run when it wants."""
    calls = []
    monkeypatch.setattr(tasks.push_send, "delay", lambda *args: calls.append(args))
    return calls


def test_a_room_that_ended_before_the_push_went_out_is_not_pushed(
    host, committed, service, enqueued
):
    fan, _ = _fan(host, service)
    with committed():
        room = room_create(host=host, title="Short")
    room_end(actor=host, room_id=room.pk)
    [args] = enqueued
    assert tasks.push_send(*args)["stale"] == 1
    assert service.received == []
    assert Notification.objects.filter(recipient=fan, kind=Kind.ROOM_STARTED).exists()


def test_a_chunk_enqueues_a_push_for_its_recipients_with_a_device_only(
    host, committed, service, enqueued, settings
):
    settings.NOTIFY_CHUNK_SIZE = 3
    fans = [FollowFactory(followee=host).follower for _ in range(7)]
    for fan in (fans[1], fans[5]):
        _subscribe(fan, service)
    _subscribe(fans[5], service, name="second-device")
    with committed():
        room = room_create(host=host, title="Now")
    # Chunks of [0-2], [3-5], [6]: the last has nobody with a device and enqueues nothing.
    assert [ids for _, _, ids in enqueued] == [[fans[1].pk], [fans[5].pk]]
    assert {kind for kind, _, _ in enqueued} == {Kind.ROOM_STARTED}
    assert {subject for _, subject, _ in enqueued} == {f"room:{room.pk}"}


def test_a_push_task_that_runs_twice_pushes_once(host, committed, service, enqueued):
    _fan(host, service)
    with committed():
        room_create(host=host, title="Now")
    [args] = enqueued
    assert tasks.push_send(*args)["sent"] == 1
    assert tasks.push_send(*args)["sent"] == 0
    assert len(service.received) == 1


def test_a_notification_read_before_the_push_is_not_pushed(host, committed, service, enqueued):
    fan, _ = _fan(host, service)
    with committed():
        room_create(host=host, title="Now")
    Notification.objects.filter(recipient=fan).update(read_at=timezone.now())
    [args] = enqueued
    tasks.push_send(*args)
    assert service.received == []


def test_a_kind_turned_off_is_not_pushed(host, committed, service):
    fan, _ = _fan(host, service)
    Preferences.objects.create(user=fan, room_started=False)
    with committed():
        room_create(host=host, title="Now")
    assert service.received == []


def test_nobody_subscribed_enqueues_nothing(host, committed, enqueued):
    FollowFactory(followee=host)
    with committed():
        room_create(host=host, title="Now")
    assert enqueued == []


def _quiet_around_now(zone: str, *, inside: bool) -> tuple[time, time]:
    here = timezone.now().astimezone(ZoneInfo(zone))
    if inside:
        return (here - timedelta(hours=1)).time(), (here + timedelta(hours=1)).time()
    return (here + timedelta(hours=1)).time(), (here + timedelta(hours=2)).time()


def test_quiet_hours_on_the_persons_clock_hold_the_push_back(host, committed, service):
    fan, _ = _fan(host, service)
    calm, _ = _fan(host, service)
    start, end = _quiet_around_now("Asia/Tokyo", inside=True)
    Preferences.objects.create(user=fan, quiet_start=start, quiet_end=end, time_zone="Asia/Tokyo")
    start, end = _quiet_around_now("America/New_York", inside=False)
    Preferences.objects.create(
        user=calm, quiet_start=start, quiet_end=end, time_zone="America/New_York"
    )
    with committed():
        room_create(host=host, title="Now")
    assert [r.path for r in service.received] == [
        PushSubscription.objects.get(user=calm).endpoint.removeprefix(service.origin)
    ]
    # The inbox still has it.
    assert Notification.objects.filter(recipient=fan, kind=Kind.ROOM_STARTED).exists()


@pytest.mark.parametrize(
    ("start", "end", "clock", "quiet"),
    [
        (time(22), time(7), time(23, 30), True),
        (time(22), time(7), time(6, 59), True),
        (time(22), time(7), time(7), False),
        (time(22), time(7), time(12), False),
        (time(13), time(14), time(13, 30), True),
        (time(13), time(14), time(14, 30), False),
    ],
)
def test_quiet_hours_may_span_midnight(start, end, clock, quiet):
    preferences = Preferences(quiet_start=start, quiet_end=end, time_zone="Europe/Paris")
    moment = datetime.combine(date(2025, 1, 15), clock, tzinfo=ZoneInfo("Europe/Paris"))
    assert preferences.is_quiet(moment) is quiet


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_dropped(host, committed, service, status):
    fan, _ = _fan(host, service)
    endpoint = PushSubscription.objects.get(user=fan).endpoint
    service.statuses[endpoint.removeprefix(service.origin)] = status
    with committed():
        room_create(host=host, title="Now")
    assert len(service.received) == 1
    assert not PushSubscription.objects.filter(user=fan).exists()


def test_other_failures_are_counted_and_a_subscription_that_keeps_failing_is_dropped(
    host, committed, service, settings
):
    settings.PUSH_MAX_FAILURES = 2
    fan, _ = _fan(host, service)
    endpoint = PushSubscription.objects.get(user=fan).endpoint
    service.statuses[endpoint.removeprefix(service.origin)] = 500
    with committed():
        room_create(host=host, title="First")
    assert PushSubscription.objects.get(user=fan).failures == 1
    with committed():
        room_create(host=host, title="Second")
    assert not PushSubscription.objects.filter(user=fan).exists()
    assert len(service.received) == 2  # each tried once, never again


def test_an_unreachable_push_service_is_a_counted_failure(host, committed, service):
    fan, _ = _fan(host, service)
    service.stop()
    with committed():
        room_create(host=host, title="Now")
    assert PushSubscription.objects.get(user=fan).failures == 1
    service.__init__()  # a stopped server for the fixture to stop again
    service.start()


def test_a_chunk_is_pushed_with_a_fixed_number_of_queries(host, committed, service, enqueued):
    def queries_for(n):
        room_host = UserFactory()
        for _ in range(n):
            _fan(room_host, service)
        with committed():
            room_create(host=room_host, title="Now")
        args = enqueued.pop()
        with CaptureQueriesContext(connection) as queries:
            assert tasks.push_send(*args)["sent"] == n
        return len(queries)

    assert queries_for(2) == queries_for(6)


# --- VAPID keys ------------------------------------------------------------------------------


def test_a_key_pair_is_made_once_and_kept_private(settings, tmp_path):
    key = push.vapid_public_key()
    path = tmp_path / push.VAPID_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    push._vapid.cache_clear()
    assert push.vapid_public_key() == key
    assert len(push._b64url_decode(key)) == 65


def test_the_key_pair_from_the_settings_wins(settings, tmp_path):
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    settings.VAPID_PRIVATE_KEY = push._b64url(raw)
    public = push._public_key_of(vapid)
    settings.VAPID_PUBLIC_KEY = public
    assert push.vapid_public_key() == public
    assert not (tmp_path / push.VAPID_KEY_FILE).exists()
    settings.VAPID_PRIVATE_KEY = vapid.private_pem().decode()
    assert push.vapid_public_key() == public


def test_a_public_key_that_does_not_match_is_refused(settings):
    settings.VAPID_PRIVATE_KEY = push._b64url(bytes(range(1, 33)))
    settings.VAPID_PUBLIC_KEY = BrowserKeys().p256dh
    with pytest.raises(ImproperlyConfigured):
        push.vapid_public_key()


@pytest.fixture
def resolver(monkeypatch):
    """Names of the test's own, and the address each resolves to (DNS lies outside us)."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def _subscribe_at(user, endpoint):
    keys = BrowserKeys()
    push.push_subscription_save(user=user, endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth)
    return keys


def test_a_push_goes_to_the_address_its_name_resolves_to(host, committed, service, resolver):
    resolver["push.localhost"] = "127.0.0.1"
    fan = FollowFactory(followee=host).follower
    keys = _subscribe_at(fan, service.endpoint("named").replace("127.0.0.1", "push.localhost"))
    with committed():
        room_create(host=host, title="Now")
    [received] = service.received
    assert keys.decrypt(received.body)["title"] == "Host started “Now”"


def test_an_endpoint_whose_name_turns_private_is_not_posted_to(
    committed, service, enqueued, resolver, settings
):
    """A name that was a push service's when it was saved may resolve inside the network
    later: the push is not sent there. (Here the inside is the test's push service on this
    machine, listening, to show nothing reached it.)"""
    settings.PUSH_ALLOW_LOOPBACK = False
    host = UserFactory(username="host")
    fan = FollowFactory(followee=host).follower
    keys = BrowserKeys()
    endpoint = service.endpoint("x").replace("127.0.0.1", "push.example.net")
    PushSubscription.objects.create(user=fan, endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth)
    with committed():
        room_create(host=host, title="Now")
    [args] = enqueued
    for inside in ("127.0.0.1", "10.1.2.3"):
        resolver["push.example.net"] = inside
        Notification.objects.update(pushed_at=None)
        assert tasks.push_send(*args)["failed"] == 1
    assert service.received == []
    assert PushSubscription.objects.filter(user=fan).exists()  # a failure, not a gone one
