"""Pages for signing up and in, and for editing one's own profile."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ProfileForm, SignupForm
from accounts.selectors import api_tokens_of
from accounts.services.email_change import email_change_confirm, email_change_request
from accounts.services.profiles import user_create, user_update_profile
from accounts.services.tokens import api_token_revoke
from core.api import TOO_MANY_ATTEMPTS, auth_attempt_refused
from core.errors import ApplicationError


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@require_http_methods(["GET", "POST"])
def signup(request):
    """Sign-up; `next` (a page of this site, as for signing in) is where it leads after."""
    after = _safe_next(request, "")
    if request.user.is_authenticated:
        return redirect(after or "hallway")
    form = SignupForm(request.POST or None)
    context = {"form": form, "next": after}
    if request.method == "GET":
        return render(request, "accounts/signup.html", context)
    if auth_attempt_refused(request):
        form.add_error(None, TOO_MANY_ATTEMPTS)
        return render(request, "accounts/signup.html", context, status=429)
    if form.is_valid():
        try:
            user = user_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user)
            messages.success(
                request,
                f"Welcome to Roundtable, {user.name}! Follow a few people to fill your hallway.",
            )
            if form.cleaned_data["email"]:
                messages.info(
                    request,
                    f"We sent a link to {form.cleaned_data['email']}: it becomes your address "
                    "when you open it.",
                )
            return redirect(after or reverse("hallway"))
    return render(request, "accounts/signup.html", context, status=400)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if auth_attempt_refused(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, TOO_MANY_ATTEMPTS)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("profile_edit")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    user = request.user
    initial = {"display_name": user.display_name, "bio": user.bio, "email": user.email}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in ("display_name", "bio")}
        if data["remove_avatar"]:
            changes["avatar"] = None
        elif data["avatar"]:
            changes["avatar"] = data["avatar"]
        try:
            with transaction.atomic():  # a refused address leaves the profile unchanged too
                user_update_profile(user=user, **changes)
                sent = email_change_request(
                    user=user, email=data["email"], password=data["current_password"]
                )
        except ValidationError as error:
            form.add_error(None, error)
        except ApplicationError as error:
            form.add_error("current_password", error.message)
        else:
            messages.success(request, "Your profile is saved.")
            if sent:
                messages.info(
                    request,
                    f"We sent a link to {data['email']}: your address changes when you open it.",
                )
            return redirect(user.get_absolute_url())
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "tokens": api_tokens_of(user=user)}
    return render(request, "accounts/profile_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
def email_change_confirm_page(request, token):
    """The link from the confirmation email. Opening it shows a button: mail scanners that
    fetch links must not confirm for the person."""
    if request.method == "GET":
        return render(request, "accounts/email_change_confirm.html")
    try:
        user = email_change_confirm(token=token)
    except ApplicationError as error:
        return render(
            request, "accounts/email_change_confirm.html", {"error": error.message}, status=400
        )
    messages.success(request, f"Your address is now {user.email}.")
    return redirect("profile_edit" if request.user.is_authenticated else "login")


@login_required
@require_POST
def token_revoke(request, token_id):
    try:
        api_token_revoke(user=request.user, token_id=token_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The token is revoked: apps that used it must sign in again.")
    return redirect("profile_edit")
