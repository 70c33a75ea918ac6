"""Pages: the hallway (the landing page for visitors), starting rooms and the room page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from follows.selectors import club_list, people_to_pick, user_suggestions
from rooms.forms import HallwayFilterForm, RoomEditForm, RoomForm, SearchForm
from rooms.languages import language_from_accept
from rooms.models import Room
from rooms.permissions import room_access_to_manage, room_is_host_or_co_host
from rooms.search import search
from rooms.selectors import hallway as hallway_rooms_get
from rooms.selectors import room_get, topic_list
from rooms.services import lifecycle

SUGGESTED_CLUBS = 4
STATUS_TEMPLATES = {
    Room.Status.LIVE: "rooms/room.html",
    Room.Status.SCHEDULED: "rooms/room_scheduled.html",
    Room.Status.ENDED: "rooms/room_ended.html",
}


def _not_found(request, error: ApplicationError):
    return render(request, "404.html", {"message": error.message}, status=404)


def _share_description(room: Room) -> str:
    """What a link preview of the room says under its title."""
    host = f"hosted by {room.host.name}"
    if room.status == Room.Status.LIVE:
        stage = len(room.stage_members)
        facts = ["Live now", host, f"{stage} on stage", f"{room.listener_count} listening"]
    elif room.status == Room.Status.SCHEDULED and room.scheduled_for is not None:
        when = room.scheduled_for
        facts = [f"Starts {when:%a} {when.day} {when:%b %Y, %H:%M} UTC", host]
    else:
        facts = ["Ended", host]
    summary = " · ".join(facts) + "."
    return f"{summary} {room.description}".strip()


@require_GET
def room(request, room_id):
    """The room. Someone signed out (a shared link) sees what the room is and is asked to
    sign in or up and come back; a room not open to visitors says nothing about itself."""
    viewer = request.user if request.user.is_authenticated else None
    try:
        the_room = room_get(room_id=room_id, viewer=viewer)
    except ApplicationError as error:
        if viewer is None:
            return render(request, "rooms/room_sign_in.html")
        return _not_found(request, error)
    context = {
        "room": the_room,
        "share_description": _share_description(the_room),
        "replay_retention_days": settings.REPLAY_RETENTION_DAYS,
    }
    if viewer is None and the_room.status != Room.Status.ENDED:
        return render(request, "rooms/room_visitor.html", context)
    if the_room.status == Room.Status.SCHEDULED:
        context.update(
            co_hosts=the_room.co_hosts.order_by("username"),
            can_start=room_is_host_or_co_host(user=request.user, room=the_room),
        )
    return render(request, STATUS_TEMPLATES[the_room.status], context)


@login_required
@require_http_methods(["GET", "POST"])
def room_new(request):
    language = language_from_accept(request.headers.get("Accept-Language", ""))
    form = RoomForm(request.POST or None, host=request.user, initial={"language": language})
    if request.method == "POST" and form.is_valid():
        try:
            the_room = lifecycle.room_create(host=request.user, **form.room_fields())
        except ApplicationError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not the_room.is_live:
                messages.success(request, "Your room is scheduled. Followers hear about it.")
            return redirect(the_room)
    status = 400 if form.is_bound and form.errors else 200
    context = {
        "form": form,
        "suggestions": people_to_pick(viewer=request.user, followers_only=True),
    }
    return render(request, "rooms/room_new.html", context, status=status)


def _refused(request, error: ApplicationError, room_id):
    """An ApplicationError as a page: not found, forbidden, or a message on the room."""
    if error.status == 404:
        return _not_found(request, error)
    if error.status == 403:
        return render(request, "403.html", {"message": error.message}, status=403)
    messages.error(request, error.message)
    return redirect("room", room_id=room_id)


def _room_to_manage(request, room_id) -> Room:
    """A scheduled room the viewer may change (raises otherwise)."""
    the_room = room_get(room_id=room_id, viewer=request.user)
    room_access_to_manage(user=request.user, room=the_room)
    if the_room.status != Room.Status.SCHEDULED:
        raise ApplicationError.conflict("Only rooms that have not started can be changed.")
    return the_room


@login_required
@require_http_methods(["GET", "POST"])
def room_edit(request, room_id):
    try:
        the_room = _room_to_manage(request, room_id)
    except ApplicationError as error:
        return _refused(request, error, room_id)
    form = RoomEditForm.for_room(the_room, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.room_update(
                actor=request.user, room_id=room_id, **form.cleaned_data_for_update()
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your changes are saved.")
            return redirect("room", room_id=room_id)
    status = 400 if form.is_bound and form.errors else 200
    context = {
        "form": form,
        "room": the_room,
        "suggestions": people_to_pick(viewer=request.user, followers_only=True),
    }
    return render(request, "rooms/room_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def room_cancel(request, room_id):
    """A confirmation page, then the cancellation."""
    try:
        the_room = _room_to_manage(request, room_id)
        if request.method == "POST":
            lifecycle.room_cancel(actor=request.user, room_id=room_id)
    except ApplicationError as error:
        return _refused(request, error, room_id)
    if request.method == "GET":
        return render(request, "rooms/room_cancel.html", {"room": the_room})
    messages.success(request, "The room is cancelled; the people waiting for it are told.")
    return redirect("room", room_id=room_id)


@login_required
@require_POST
def room_start(request, room_id):
    try:
        room_get(room_id=room_id, viewer=request.user)
        the_room = lifecycle.room_start(actor=request.user, room_id=room_id)
    except ApplicationError as error:
        return _refused(request, error, room_id)
    return redirect(the_room)


@login_required
@require_POST
def room_remind(request, room_id):
    """The "Remind me" toggle without script; with script the page uses the API instead."""
    try:
        room_get(room_id=room_id, viewer=request.user)
        if request.POST.get("remind") == "off":
            lifecycle.rsvp_delete(user=request.user, room_id=room_id)
        else:
            lifecycle.rsvp_create(user=request.user, room_id=room_id)
            messages.success(request, "We will remind you before the room starts.")
    except ApplicationError as error:
        if error.status == 404:
            return _not_found(request, error)
        messages.error(request, error.message)
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("room", room_id=room_id)


def _hallway_rooms(request) -> tuple[dict, HallwayFilterForm]:
    """The hallway's lists under the filters of the query string (none when they are not
    valid; the page says why)."""
    filters = HallwayFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rooms = hallway_rooms_get(
        viewer=request.user, topic=chosen.get("topic"), language=chosen.get("language")
    )
    return rooms, filters


@require_GET
def hallway(request):
    if not request.user.is_authenticated:
        return render(request, "rooms/landing.html")
    rooms, filters = _hallway_rooms(request)
    context = {
        "rooms": rooms,
        "filters": filters,
        "topics": topic_list(),
        "suggested_people": user_suggestions(viewer=request.user),
        "suggested_clubs": club_list(viewer=request.user)[:SUGGESTED_CLUBS],
    }
    return render(request, "rooms/hallway.html", context, status=400 if filters.errors else 200)


@login_required
@require_GET
def hallway_rooms(request):
    """The hallway's room lists alone (under the same filters), which the page fetches to
    follow rooms starting and ending."""
    rooms, filters = _hallway_rooms(request)
    context = {"rooms": rooms, "filters": filters}
    return render(request, "rooms/_hallway_rooms.html", context)


@login_required
@require_GET
def search_page(request):
    """Search results; the header's form submits here without script."""
    form = SearchForm(request.GET if "q" in request.GET else None)
    results = None
    if form.is_valid():
        results = search(
            viewer=request.user,
            text=form.cleaned_data["q"],
            kind=form.cleaned_data["type"] or None,
        )
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "rooms/search.html", {"form": form, "results": results}, status=status)
