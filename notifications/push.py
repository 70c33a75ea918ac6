"""Web Push: a notification reaches a person's devices when no page of ours is open.

A browser subscribes (`PushManager.subscribe()` with our VAPID public key) and hands us its
endpoint and keys; we keep them as a PushSubscription. After the notifications of a chunk
(or of one person) are committed, one task per chunk claims the rows that still need a push
(`Notification.pushed_at`), drops those in the person's quiet hours and those that stopped
being news (a room that ended), encrypts each payload for each device (RFC 8291, through
pywebpush) and posts it to the device's push service, signed with our VAPID key (RFC 8292).
A service answering 404 or 410 says the subscription is gone: it is deleted; other failures
are logged and counted, never retried, and a subscription that keeps failing is dropped.
"""

import base64
import hashlib
import ipaddress
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from celery import current_app  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid  # type: ignore[import-untyped]
from pywebpush import WebPushException, webpush  # type: ignore[import-untyped]
from requests_hardened import Config, Manager  # type: ignore[import-untyped]

from accounts.models import User
from core.errors import ApplicationError
from notifications.models import Notification, Preferences, PushSubscription
from notifications.selectors import notification_text
from rooms.models import Room

logger = logging.getLogger(__name__)

Kind = Notification.Kind

PUSH_SEND_TASK = "notifications.tasks.push_send"
VAPID_KEY_FILE = "vapid-private.pem"


# --- What is pushed ------------------------------------------------------------------------


def _while_live(notification: Notification, now: datetime) -> int | None:
    """Until the room ends: a live room's end is not known ahead, so the push service keeps
    it PUSH_LIVE_TTL_SECONDS at most, and a room that ended already is not pushed."""
    room = notification.room
    if room is None or room.status != Room.Status.LIVE:
        return None
    return settings.PUSH_LIVE_TTL_SECONDS


def _until_start(notification: Notification, now: datetime) -> int | None:
    """Until the start: "starting soon" is no news once the room started or is gone."""
    room = notification.room
    if room is None or room.status != Room.Status.SCHEDULED or room.scheduled_for is None:
        return None
    seconds = int((room.scheduled_for - now).total_seconds())
    return seconds if seconds > 0 else None


@dataclass(frozen=True)
class PushKind:
    # Seconds a push service may keep the push for an offline device, or None when it is no
    # news any more (it is then not sent at all), at the time of sending.
    ttl: Callable[[Notification, datetime], int | None]
    # The line under the notification's text.
    body: str


# The kinds that reach devices, and how long each stays news. Every other kind stays in the
# app (the inbox, the bell, the socket).
PUSH_KINDS: dict[str, PushKind] = {
    Kind.ROOM_STARTED: PushKind(ttl=_while_live, body="Live now. Tap to listen."),
    Kind.ROOM_REMINDER: PushKind(ttl=_until_start, body="Starting soon. Tap to open the room."),
    Kind.SPEAKER_INVITE: PushKind(ttl=_while_live, body="Tap to join the stage."),
    Kind.ROOM_RESCHEDULED: PushKind(ttl=_until_start, body="New time. Tap to open the room."),
}


def push_payload(notification: Notification) -> dict[str, str]:
    """What the service worker shows. The link goes through the inbox's "open", which marks
    the notification read on the way. The tag is the subject, so a device shows one
    notification per room: "started" replaces "starting soon"."""
    return {
        "title": notification_text(notification),
        "body": PUSH_KINDS[notification.kind].body,
        "url": reverse("notification_open", args=[notification.pk]),
        "tag": notification.subject,
        "kind": notification.kind,
    }


def push_topic(subject: str) -> str:
    """RFC 8030's Topic (at most 32 base64url characters): a push service that still holds
    an undelivered push of the same subject replaces it with the newer one."""
    digest = hashlib.sha256(subject.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


# --- VAPID keys ------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    """Strict base64url, with or without padding; ValueError otherwise."""
    stripped = text.rstrip("=")
    if not stripped or any(c not in _B64URL for c in stripped):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _key_file_read_or_make(path: Path) -> bytes:
    """The PEM in `path`, made first if there is none. Written to a private temporary file
    and linked into place, so two processes starting at once end up with the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")  # mode 0600
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(pem)
            os.link(temporary, path)
            logger.info("Made a new VAPID key pair for Web Push in %s.", path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes()


@cache
def _vapid(private_key: str, public_key: str, var_dir: str) -> Vapid:
    if private_key.startswith("-----BEGIN"):
        vapid = Vapid.from_pem(private_key.encode())
    elif private_key:
        vapid = Vapid.from_string(private_key)
    else:
        vapid = Vapid.from_pem(_key_file_read_or_make(Path(var_dir) / VAPID_KEY_FILE))
    if public_key and public_key.rstrip("=") != _public_key_of(vapid):
        raise ImproperlyConfigured("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY.")
    return vapid


def _public_key_of(vapid: Vapid) -> str:
    return _b64url(
        vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def vapid_key() -> Vapid:
    """The key that signs our pushes: from the settings, or the one kept in VAR_DIR."""
    return _vapid(settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY, str(settings.VAR_DIR))


def vapid_public_key() -> str:
    """The public key as `PushManager.subscribe()` takes it (`applicationServerKey`)."""
    return _public_key_of(vapid_key())


def vapid_subject() -> str:
    if settings.VAPID_SUBJECT:
        return str(settings.VAPID_SUBJECT)
    if settings.SITE_URL.startswith("https://"):
        return str(settings.SITE_URL)
    return "mailto:" + (parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost")


# --- Subscriptions -------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_check(endpoint: str) -> None:
    """A push service is a public https address. Plain http is let through only to this
    machine, and only where PUSH_ALLOW_LOOPBACK says so (development and tests)."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if not host:
        raise ApplicationError("The endpoint must be an absolute https:// address.")
    if settings.PUSH_ALLOW_LOOPBACK and _loopback(host) and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise ApplicationError("The endpoint must be an https:// address.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if _loopback(host) or "." not in host:
            raise ApplicationError(
                "The endpoint must be a push service's public address."
            ) from None
        return
    if not address.is_global:
        raise ApplicationError("The endpoint must be a push service's public address.")


def _keys_check(*, p256dh: str, auth: str) -> None:
    """The browser's P-256 public key (a point on the curve, 65 bytes uncompressed) and its
    16-byte auth secret, both base64url."""
    try:
        point = _b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError("not uncompressed")
    except ValueError:
        raise ApplicationError(
            "keys.p256dh must be the browser's P-256 public key: 65 bytes, base64url."
        ) from None
    try:
        secret = _b64url_decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise ApplicationError("keys.auth must be the browser's 16-byte auth secret, base64url.")


def _same_keys(subscription: PushSubscription, p256dh: str, auth: str) -> bool:
    try:
        held = (_b64url_decode(subscription.p256dh), _b64url_decode(subscription.auth))
    except ValueError:
        return False
    return held == (_b64url_decode(p256dh), _b64url_decode(auth))


@transaction.atomic
def push_subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Keeps (or renews) this browser's subscription for `user`. An endpoint that another
    person subscribed on the same browser before passes to this one, on proof that it is the
    same browser: the keys it holds for the endpoint (an endpoint alone, posted with other
    keys, would take someone's pushes away: 409). Past PUSH_MAX_SUBSCRIPTIONS the person's
    oldest subscription is dropped."""
    _endpoint_check(endpoint)
    _keys_check(p256dh=p256dh, auth=auth)
    held = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
    if held is not None and held.user_id != user.pk and not _same_keys(held, p256dh, auth):
        raise ApplicationError.conflict(
            "This push endpoint is another account's; a browser moves it with its own keys."
        )
    subscription, created = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={
            "user": user,
            "p256dh": p256dh,
            "auth": auth,
            "user_agent": user_agent[:300],
            "failures": 0,
        },
    )
    kept = (
        PushSubscription.objects.filter(user=user)
        .order_by("-created", "-pk")
        .values_list("pk", flat=True)[: settings.PUSH_MAX_SUBSCRIPTIONS]
    )
    PushSubscription.objects.filter(user=user).exclude(pk__in=list(kept)).delete()
    return subscription, created


@transaction.atomic
def push_subscription_delete(*, user: User, endpoint: str) -> None:
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    if not deleted:
        raise ApplicationError.not_found("You have no push subscription with that endpoint.")


# --- Sending -------------------------------------------------------------------------------


def _with_devices(recipient_ids: list[int]) -> list[int]:
    """Those of these people who have a device subscribed. A fan-out's chunk is a run of
    ids in order, so the subscriptions are read by one range of ids: a parameter per
    recipient (`IN (…)` of 5,000) cost more than writing the chunk's rows."""
    if not recipient_ids:
        return []
    wanted = set(recipient_ids)
    subscribed = (
        PushSubscription.objects.filter(user_id__gte=min(wanted), user_id__lte=max(wanted))
        .values_list("user_id", flat=True)
        .distinct()
    )
    return sorted(wanted.intersection(subscribed))


def push_enqueue(*, kind: str, subject: str, recipient_ids: list[int]) -> None:
    """After the rows of these recipients are committed: one task for those of them with a
    device subscribed, when the kind is pushed. A broker that is down loses the push
    (logged), never the notification."""
    if kind not in PUSH_KINDS:
        return
    recipient_ids = _with_devices(recipient_ids)
    if not recipient_ids:
        return
    try:
        current_app.tasks[PUSH_SEND_TASK].delay(kind, subject, recipient_ids)
    except Exception:
        logger.exception("Enqueuing a push to %d people failed.", len(recipient_ids))


def push_enqueue_on_commit(*, kind: str, subject: str, recipient_ids: list[int]) -> None:
    if kind in PUSH_KINDS:
        transaction.on_commit(
            partial(push_enqueue, kind=kind, subject=subject, recipient_ids=recipient_ids)
        )


def _claim(kind: str, subject: str, recipient_ids: list[int]) -> list[Notification]:
    """The unread rows of this event that were never pushed and whose recipient has a
    device, marked pushed in the same transaction: a task that runs twice pushes once."""
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(of=("self",))
            .filter(
                kind=kind,
                subject=subject,
                recipient_id__in=recipient_ids,
                pushed_at__isnull=True,
                read_at__isnull=True,
            )
            .filter(Exists(PushSubscription.objects.filter(user_id=OuterRef("recipient_id"))))
            .select_related("actor", "room", "club")
        )
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(pushed_at=timezone.now())
    return claimed


_sessions = threading.local()


def _session() -> requests.Session:
    """One HTTP session per sending thread, so pushes to one service reuse a connection.

    An endpoint's name is checked when it is saved, but what it resolves to can change: the
    session resolves it when it connects, refuses private, loopback and other non-public
    addresses (loopback stays open where PUSH_ALLOW_LOOPBACK says so), connects to the
    address it checked, and follows no redirect."""
    allow_loopback = settings.PUSH_ALLOW_LOOPBACK
    sessions: dict[bool, requests.Session] = vars(_sessions).setdefault("by_loopback", {})
    if allow_loopback not in sessions:
        timeout = settings.PUSH_TIMEOUT_SECONDS
        sessions[allow_loopback] = Manager(
            Config(
                ip_filter_enable=True,
                ip_filter_allow_loopback_ips=allow_loopback,
                never_redirect=True,
                default_timeout=(timeout, timeout),
            )
        ).get_session()
    return sessions[allow_loopback]


def _send_one(subscription: PushSubscription, data: str, ttl: int, topic: str) -> str:
    """Posts one push; "sent", "gone" (404/410: the subscription no longer exists) or
    "failed"."""
    try:
        webpush(
            subscription_info=subscription.info(),
            data=data,
            vapid_private_key=vapid_key(),
            vapid_claims={"sub": vapid_subject()},
            ttl=ttl,
            headers={"Topic": topic},
            timeout=settings.PUSH_TIMEOUT_SECONDS,
            requests_session=_session(),
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            return "gone"
        logger.warning(
            "Push to %s failed: %s", urlsplit(subscription.endpoint).hostname, status or error
        )
        return "failed"
    except requests.RequestException as error:
        logger.warning(
            "Push to %s failed: %s", urlsplit(subscription.endpoint).hostname, type(error).__name__
        )
        return "failed"
    return "sent"


def push_send(
    *, kind: str, subject: str, recipient_ids: list[int], now: datetime | None = None
) -> dict[str, int]:
    """Pushes one event's notifications to the devices of these recipients (one task per
    chunk; a fixed number of queries whatever its size). Returns what happened, counted."""
    push_kind = PUSH_KINDS.get(kind)
    counts = {"sent": 0, "gone": 0, "failed": 0, "quiet": 0, "stale": 0}
    if push_kind is None:
        return counts
    now = now or timezone.now()
    claimed = _claim(kind, subject, recipient_ids)
    if not claimed:
        return counts
    preferences = Preferences.objects.in_bulk([n.recipient_id for n in claimed])
    subscriptions: dict[int, list[PushSubscription]] = {}
    for subscription in PushSubscription.objects.filter(
        user_id__in=[n.recipient_id for n in claimed]
    ):
        subscriptions.setdefault(subscription.user_id, []).append(subscription)
    jobs: list[tuple[PushSubscription, str, int, str]] = []
    for notification in claimed:
        ttl = push_kind.ttl(notification, now)
        if ttl is None:
            counts["stale"] += 1
            continue
        person = preferences.get(notification.recipient_id)
        if person is not None and person.is_quiet(now):
            counts["quiet"] += 1
            continue
        data = json.dumps(push_payload(notification))
        topic = push_topic(notification.subject)
        for subscription in subscriptions.get(notification.recipient_id, []):
            jobs.append((subscription, data, ttl, topic))
    if not jobs:
        return counts
    with ThreadPoolExecutor(max_workers=max(1, min(settings.PUSH_CONCURRENCY, len(jobs)))) as pool:
        outcomes = list(pool.map(lambda job: _send_one(*job), jobs))
    by_outcome: dict[str, list[int]] = {"sent": [], "gone": [], "failed": []}
    for (subscription, *_), outcome in zip(jobs, outcomes, strict=True):
        by_outcome[outcome].append(subscription.pk)
        counts[outcome] += 1
    _outcomes_record(by_outcome, now)
    logger.info("Pushed %s of %s: %s", kind, subject, counts)
    return counts


def _outcomes_record(by_outcome: dict[str, list[int]], now: datetime) -> None:
    subscriptions = PushSubscription.objects
    updates: list[tuple[list[int], dict[str, Any]]] = [
        (by_outcome["sent"], {"last_success": now, "failures": 0}),
        (by_outcome["failed"], {"failures": F("failures") + 1}),
    ]
    with transaction.atomic():
        for ids, fields in updates:
            if ids:
                subscriptions.filter(pk__in=ids).update(**fields)
        subscriptions.filter(pk__in=by_outcome["gone"]).delete()
        subscriptions.filter(
            pk__in=by_outcome["failed"], failures__gte=settings.PUSH_MAX_FAILURES
        ).delete()
