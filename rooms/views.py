"""The hallway: the landing page for visitors, the signed-in person's home."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import user_suggestions
from config.errors import ApplicationError
from follows.selectors import club_list
from rooms.selectors import room_get

SUGGESTED_CLUBS = 4


@require_GET
def room(request, room_id):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        the_room = room_get(room_id=room_id, viewer=request.user)
    except ApplicationError as error:
        return render(request, "404.html", {"message": error.message}, status=404)
    return render(request, "rooms/room.html", {"room": the_room})


@require_GET
def hallway(request):
    if not request.user.is_authenticated:
        return render(request, "rooms/landing.html")
    context = {
        "suggested_people": user_suggestions(viewer=request.user),
        "suggested_clubs": club_list(viewer=request.user)[:SUGGESTED_CLUBS],
    }
    return render(request, "rooms/hallway.html", context)
