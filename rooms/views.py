"""The hallway: the landing page for visitors, the signed-in person's home."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import user_suggestions
from follows.selectors import club_list

SUGGESTED_CLUBS = 4


@require_GET
def hallway(request):
    if not request.user.is_authenticated:
        return render(request, "rooms/landing.html")
    context = {
        "suggested_people": user_suggestions(viewer=request.user),
        "suggested_clubs": club_list(viewer=request.user)[:SUGGESTED_CLUBS],
    }
    return render(request, "rooms/hallway.html", context)
