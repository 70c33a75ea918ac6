"""Pages and form actions for profiles, following, blocking and clubs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import user_get
from core.errors import ApplicationError
from follows import services
from follows.forms import ClubDeleteForm, ClubEditForm, ClubForm, ClubInviteForm
from follows.models import Club, ClubMembership
from follows.permissions import club_as_owner, club_membership_as_admin
from follows.selectors import (
    club_bans,
    club_get,
    club_list,
    club_members,
    clubs_of,
    followers_list,
    following_list,
    people_to_pick,
    user_profile_get,
)

CLUBS_PER_PAGE = 30
MEMBERS_PER_PAGE = 60
PEOPLE_PER_PAGE = 50


def _profile_context(request, username):
    person = user_profile_get(username=username, viewer=request.user)
    return {"person": person, "is_me": request.user == person}


def profile(request, username):
    try:
        context = _profile_context(request, username)
    except ApplicationError as error:
        return render(request, "404.html", {"message": error.message}, status=404)
    person = context["person"]
    if not person.blocked_viewer:
        context["clubs"] = clubs_of(user=person)
        context["share_description"] = person.bio or (
            f"@{person.username} on Roundtable · {person.follower_count} followers."
        )
    return render(request, "accounts/profile.html", context)


def _people_page(request, username, list_name):
    try:
        context = _profile_context(request, username)
    except ApplicationError as error:
        return render(request, "404.html", {"message": error.message}, status=404)
    person = context["person"]
    if person.blocked_viewer:
        return render(request, "accounts/profile.html", context)
    if list_name == "followers":
        follows, attr = followers_list(user=person, viewer=request.user), "follower"
    else:
        follows, attr = following_list(user=person, viewer=request.user), "followee"
    page = Paginator(follows, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    people = []
    for follow in page:
        other = getattr(follow, attr)
        other.you_follow = follow.viewer_follows
        people.append(other)
    context.update(page=page, people=people, list_name=list_name)
    return render(request, "accounts/people.html", context)


def followers(request, username):
    return _people_page(request, username, "followers")


def following(request, username):
    return _people_page(request, username, "following")


def _back(request, default: str):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


def _not_found(request, error: ApplicationError):
    return render(request, "404.html", {"message": error.message}, status=404)


RELATIONSHIP_ACTIONS = {
    "follow": (
        lambda me, them: services.follow_create(follower=me, followee=them),
        "You follow {}.",
    ),
    "unfollow": (
        lambda me, them: services.follow_delete(follower=me, followee=them),
        "You unfollowed {}.",
    ),
    "block": (lambda me, them: services.block_create(blocker=me, blocked=them), "You blocked {}."),
    "unblock": (
        lambda me, them: services.block_delete(blocker=me, blocked=them),
        "You unblocked {}.",
    ),
}


@login_required
@require_POST
def relationship(request, username):
    try:
        person = user_get(username=username)
    except ApplicationError as error:
        return _not_found(request, error)
    action = RELATIONSHIP_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, "That action is not one this page knows.")
        return _back(request, person.get_absolute_url())
    perform, done = action
    try:
        perform(request.user, person)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done.format(person.name))
    return _back(request, person.get_absolute_url())


@require_GET
def clubs(request):
    page = Paginator(club_list(viewer=request.user), CLUBS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "follows/clubs.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def club_new(request):
    form = ClubForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            club = services.club_create(creator=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error("name" if error.code == "name_taken" else None, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{club.name} is open. Invite people to join.")
            return redirect(club)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "follows/club_new.html", {"form": form}, status=status)


@require_GET
def club(request, slug):
    try:
        the_club = club_get(slug=slug, viewer=request.user)
    except ApplicationError as error:
        return _not_found(request, error)
    members = Paginator(club_members(club=the_club), MEMBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    is_admin = the_club.viewer_status == "active" and the_club.viewer_role == "admin"
    pending = club_members(club=the_club, status=ClubMembership.Status.PENDING) if is_admin else []
    bans = club_bans(club=the_club) if is_admin else []
    context = {
        "club": the_club,
        "share_description": the_club.description
        or f"A club on Roundtable · {the_club.member_count} members.",
        "members": members,
        "pending": pending,
        "bans": bans,
        "is_admin": is_admin,
        "is_owner": request.user.is_authenticated and the_club.owner_id == request.user.pk,
    }
    return render(request, "follows/club.html", context)


CLUB_ACTIONS = {
    "join": (lambda me, club: services.club_join(user=me, club=club), None),
    "decline_invite": (
        lambda me, club: services.club_invite_decline(user=me, club=club),
        "You declined the invitation to {}.",
    ),
    "leave": (lambda me, club: services.club_leave(user=me, club=club), "You left {}."),
    "follow": (lambda me, club: services.club_follow_create(user=me, club=club), "You follow {}."),
    "unfollow": (
        lambda me, club: services.club_follow_delete(user=me, club=club),
        "You unfollowed {}.",
    ),
}


@login_required
@require_POST
def club_action(request, slug):
    try:
        the_club = club_get(slug=slug)
    except ApplicationError as error:
        return _not_found(request, error)
    action = request.POST.get("action", "")
    if action not in CLUB_ACTIONS:
        messages.error(request, "That action is not one this page knows.")
        return redirect(the_club)
    perform, done = CLUB_ACTIONS[action]
    try:
        result = perform(request.user, the_club)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(the_club)
    if action == "join":
        done = (
            "Welcome to {}!" if result.is_active else "You asked to join {}; an admin will decide."
        )
    messages.success(request, done.format(the_club.name))
    return redirect(the_club)


@login_required
@require_POST
def club_member_action(request, slug, username):
    try:
        the_club, person = club_get(slug=slug), user_get(username=username)
    except ApplicationError as error:
        return _not_found(request, error)
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            services.club_membership_approve(actor=request.user, club=the_club, user=person)
            messages.success(request, f"{person.name} is now a member.")
        elif action == "remove":
            services.club_member_remove(actor=request.user, club=the_club, user=person)
            messages.success(request, f"{person.name} is no longer in {the_club.name}.")
        elif action == "ban":
            reason = request.POST.get("reason", "")
            services.club_ban(actor=request.user, club=the_club, user=person, reason=reason)
            messages.success(
                request, f"{person.name} is banned from {the_club.name} and all of its rooms."
            )
        elif action == "unban":
            services.club_unban(actor=request.user, club=the_club, user=person)
            messages.success(request, f"{person.name} may join {the_club.name} again.")
        elif action == "role":
            role = request.POST.get("role", "")
            services.club_member_set_role(actor=request.user, club=the_club, user=person, role=role)
            messages.success(request, f"{person.name} is now a {role} of {the_club.name}.")
        else:
            messages.error(request, "That action is not one this page knows.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(the_club)


def _club_for(request, slug, check) -> Club:
    """The club, once `check` (a permission) let the viewer manage it."""
    the_club = club_get(slug=slug, viewer=request.user)
    check(user=request.user, club=the_club)
    return the_club


def _refused(request, error: ApplicationError):
    if error.status == 404:
        return _not_found(request, error)
    return render(request, "403.html", {"message": error.message}, status=error.status)


@login_required
@require_http_methods(["GET", "POST"])
def club_edit(request, slug):
    """Admins change the club; the owner also finds handing over and deleting here."""
    try:
        the_club = _club_for(request, slug, club_membership_as_admin)
    except ApplicationError as error:
        return _refused(request, error)
    initial = {
        "name": the_club.name,
        "description": the_club.description,
        "join_policy": the_club.join_policy,
    }
    form = ClubEditForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.club_update(actor=request.user, club=the_club, **form.changes())
        except ApplicationError as error:
            form.add_error("name" if error.code == "name_taken" else None, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The club is updated.")
            return redirect(the_club)
    context = {
        "club": the_club,
        "form": form,
        "is_owner": the_club.owner_id == request.user.pk,
        "members": club_members(club=the_club).exclude(user=request.user),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "follows/club_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def club_invite(request, slug):
    """Admins pick people; each gets a notification to accept or decline."""
    try:
        the_club = _club_for(request, slug, club_membership_as_admin)
    except ApplicationError as error:
        return _refused(request, error)
    form = ClubInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invited, refused = [], []
        for person in form.cleaned_data["people"]:
            try:
                services.club_invite_create(actor=request.user, club=the_club, user=person)
            except ApplicationError as error:
                refused.append(error.message)
            else:
                invited.append(person.name)
        if invited:
            messages.success(request, f"Invited: {', '.join(invited)}.")
        for message in refused:
            messages.error(request, message)
        if not refused:
            return redirect(the_club)
        return redirect("club_invite", slug=the_club.slug)
    context = {"club": the_club, "form": form, "suggestions": people_to_pick(viewer=request.user)}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "follows/club_invite.html", context, status=status)


@login_required
@require_POST
def club_owner(request, slug):
    """The owner offers the club to a member, or withdraws the offer (no username)."""
    try:
        the_club = club_get(slug=slug)
        username = request.POST.get("username", "")
        person = user_get(username=username) if username else None
        services.club_ownership_offer(actor=request.user, club=the_club, user=person)
    except ApplicationError as error:
        if error.status in (403, 404):
            return _refused(request, error)
        messages.error(request, error.message)
        return redirect("club_edit", slug=slug)
    if person is None:
        messages.success(request, "You withdrew the offer; you still own the club.")
    else:
        messages.success(
            request, f"{person.name} owns {the_club.name} once they accept; you own it until then."
        )
    return redirect("club_edit", slug=slug)


@login_required
@require_POST
def club_owner_answer(request, slug):
    """The member offered the club accepts or declines it."""
    accept = request.POST.get("answer") == "accept"
    try:
        the_club = services.club_ownership_answer(
            user=request.user, club=club_get(slug=slug), accept=accept
        )
    except ApplicationError as error:
        if error.status == 404:
            return _refused(request, error)
        messages.error(request, error.message)
        return redirect("club", slug=slug)
    if accept:
        messages.success(request, f"You own {the_club.name} now.")
    else:
        messages.info(request, f"You declined to own {the_club.name}.")
    return redirect(the_club)


@login_required
@require_http_methods(["GET", "POST"])
def club_delete(request, slug):
    """A confirmation that asks for the name typed, then the deletion."""
    try:
        the_club = _club_for(request, slug, club_as_owner)
    except ApplicationError as error:
        return _refused(request, error)
    form = ClubDeleteForm(request.POST or None, club=the_club)
    if request.method == "POST" and form.is_valid():
        services.club_delete(actor=request.user, club=the_club)
        messages.success(request, f"{the_club.name} is deleted; its scheduled rooms are cancelled.")
        return redirect("clubs")
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "follows/club_delete.html", {"club": the_club, "form": form}, status=status
    )
