"""Pages: the inbox, settings, the calendar files and the service worker."""

from functools import cache

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import user_get
from core.errors import ApplicationError
from follows.selectors import club_get
from notifications import calendar, push, selectors, services
from notifications.forms import PreferencesForm
from notifications.models import Notification, Preferences
from rooms.models import Room
from rooms.selectors import room_get

PER_PAGE = 30
ICS = "text/calendar; charset=utf-8"
SERVICE_WORKER = "js/sw.js"


def _back(request, default: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


@login_required
@require_GET
def inbox(request):
    page = Paginator(selectors.notification_list(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    items = [(n, selectors.notification_text(n), selectors.notification_url(n)) for n in page]
    context = {"page": page, "items": items, "unread": selectors.unread_count(user=request.user)}
    return render(request, "notifications/list.html", context)


@login_required
@require_GET
def notification_open(request, pk):
    """Follows a notification's link and marks it read on the way."""
    notification = selectors.notification_list(user=request.user).filter(pk=pk).first()
    if notification is None:
        return render(
            request, "404.html", {"message": "You have no such notification."}, status=404
        )
    if not notification.read:
        services.notifications_mark_read(user=request.user, ids=[pk])
    return redirect(selectors.notification_url(notification))


@login_required
@require_POST
def mark_read(request):
    everything = request.POST.get("all") == "1"
    try:
        ids = [int(value) for value in request.POST.getlist("ids")]
    except ValueError:
        ids = None
    try:
        if ids is None:
            raise ApplicationError("That is not a notification id.")
        marked = services.notifications_mark_read(user=request.user, ids=ids, everything=everything)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if everything:
            messages.success(
                request, f"Marked {marked} notification{'s' if marked != 1 else ''} read."
            )
    return _back(request, reverse("notifications"))


SETTINGS_ACTIONS = {
    "mute_person": (
        lambda me, v: services.person_mute(user=me, person=user_get(username=v)),
        "Rooms of @{} stay quiet now.",
    ),
    "unmute_person": (
        lambda me, v: services.person_unmute(user=me, person=user_get(username=v)),
        "You hear about rooms of @{} again.",
    ),
    "mute_club": (
        lambda me, v: services.club_mute(user=me, club=club_get(slug=v)),
        "Rooms of that club stay quiet now.",
    ),
    "unmute_club": (
        lambda me, v: services.club_unmute(user=me, club=club_get(slug=v)),
        "You hear about rooms of that club again.",
    ),
    "calendar_new": (
        lambda me, v: services.calendar_token_rotate(user=me),
        "Your calendar has a new private address; the old one stopped working.",
    ),
    "calendar_off": (
        lambda me, v: services.calendar_token_revoke(user=me),
        "Your calendar feed is off.",
    ),
}


def _preferences_save(user, form: PreferencesForm) -> bool:
    """Saves a valid form; a rule that says no becomes the form's error."""
    data = form.cleaned_data
    try:
        services.preferences_update(
            user=user,
            kinds=form.kinds(),
            email_reminders=data["email_reminders"],
            quiet_hours=(data["quiet_start"], data["quiet_end"]),
            time_zone=data["time_zone"],
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    preferences = selectors.preferences_of(user=request.user)
    action = request.POST.get("action", "save") if request.method == "POST" else None
    initial = {kind: preferences.wants(kind) for kind in Notification.Kind.values}
    initial["email_reminders"] = preferences.email_reminders
    initial["quiet_start"] = preferences.quiet_start
    initial["quiet_end"] = preferences.quiet_end
    initial["time_zone"] = preferences.time_zone
    form = PreferencesForm(request.POST if action == "save" else None, initial=initial)
    if action == "save":
        if form.is_valid() and _preferences_save(request.user, form):
            messages.success(request, "Your notification settings are saved.")
            return redirect("notification_settings")
    elif action in SETTINGS_ACTIONS:
        perform, done = SETTINGS_ACTIONS[action]
        value = request.POST.get("value", "").strip()
        try:
            perform(request.user, value)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done.format(value))
        return redirect("notification_settings")
    elif action is not None:
        messages.error(request, "That action is not one this page knows.")
        return redirect("notification_settings")
    token = selectors.preferences_of(user=request.user).calendar_token
    context = {
        "form": form,
        "muted_people": selectors.muted_people(user=request.user),
        "muted_clubs": selectors.muted_clubs(user=request.user),
        "clubs": selectors.clubs_to_mute(user=request.user),
        "calendar_url": (
            request.build_absolute_uri(reverse("calendar_feed", args=[token])) if token else None
        ),
        "vapid_public_key": push.vapid_public_key(),
        "push_kinds": [Notification.Kind(kind).label for kind in push.PUSH_KINDS],
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "notifications/settings.html", context, status=status)


@require_GET
def room_calendar(request, room_id):
    """The .ics of one scheduled (or cancelled) room the viewer may see."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        room = room_get(room_id=room_id, viewer=request.user)
    except ApplicationError as error:
        return render(request, "404.html", {"message": error.message}, status=404)
    if room.status != Room.Status.SCHEDULED and not room.is_cancelled:
        message = "Only scheduled rooms go in a calendar; this one " + (
            "is live now." if room.is_live else "has ended."
        )
        return render(request, "404.html", {"message": message}, status=404)
    body = calendar.room_calendar(room, absolute_url=request.build_absolute_uri)
    response = HttpResponse(body, content_type=ICS)
    response["Content-Disposition"] = f'attachment; filename="room-{room.pk}.ics"'
    return response


@require_GET
def calendar_feed(request, token):
    """The private feed: no sign-in (calendar apps have no cookies); the token is the key."""
    preferences = (
        Preferences.objects.select_related("user")
        .filter(calendar_token=token, user__is_active=True)
        .first()
        if token
        else None
    )
    if preferences is None:
        return HttpResponseNotFound(
            "This calendar address was turned off or replaced. Copy the current one from "
            "your notification settings.",
            content_type="text/plain; charset=utf-8",
        )
    restriction = preferences.user.restriction()
    if restriction is not None:
        # A locked account's feed stops with its sessions and tokens.
        return HttpResponseForbidden(restriction, content_type="text/plain; charset=utf-8")
    rooms = selectors.calendar_rooms(user=preferences.user)
    body = calendar.feed_calendar(rooms, absolute_url=request.build_absolute_uri)
    response = HttpResponse(body, content_type=ICS)
    response["Cache-Control"] = "private, max-age=300"
    return response


@cache
def _service_worker_source() -> bytes:
    path = finders.find(SERVICE_WORKER)
    if path is None:
        raise FileNotFoundError(SERVICE_WORKER)
    with open(path, "rb") as file:
        return file.read()


@require_GET
def service_worker(request):
    """The service worker, from the site's root so that it may control every page. Browsers
    check it for updates on their own; no-cache makes them see a new one at once."""
    response = HttpResponse(_service_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
