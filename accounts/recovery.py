"""Getting back into an account: a password reset by email, with Django's views and tokens;
the mail itself is sent from the worker (accounts.services.recovery)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.urls import reverse_lazy

from accounts.tasks import password_reset_send
from core.api import auth_attempt_refused

TOO_MANY_RESETS = "Too many requests from your address. Wait a minute and try again."


class PasswordResetRequestForm(PasswordResetForm):
    """Django's form, whose sending is the worker's: the page's answer does not depend on
    whether the address has an account."""

    def save(self, **options) -> None:
        email = self.cleaned_data["email"]
        transaction.on_commit(lambda: password_reset_send.delay(email=email))


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("password_reset_done")

    def post(self, request, *args, **kwargs):
        # Each request may send an email: the same budget as signing in, per address.
        if auth_attempt_refused(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, TOO_MANY_RESETS)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
        return super().get_context_data(timeout_days=days, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        messages.success(self.request, "Your password is changed. Sign in with it.")
        return super().form_valid(form)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
