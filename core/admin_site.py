"""The staff admin's site: Django's, with its sign-in throttled like the site's own
(`core.api.auth_attempt_refused`, per client address), so the admin is no way around that limit."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from core.api import TOO_MANY_ATTEMPTS, auth_attempt_refused


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        if self.request is not None and auth_attempt_refused(self.request):
            raise ValidationError(TOO_MANY_ATTEMPTS, code="throttled")
        return super().clean()


class AdminSite(admin.AdminSite):
    login_form = ThrottledAuthenticationForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")
        if form is not None and form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
        return response
