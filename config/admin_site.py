"""The staff admin's site: Django's, with its sign-in throttled like the site's own
(`AuthRateThrottle`, per client address), so the admin is no way around that limit."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from config.api import AuthRateThrottle

TOO_MANY_ATTEMPTS = "Too many attempts from your address. Wait a minute and try again."


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        if self.request is not None and not AuthRateThrottle().allow_request(self.request, None):
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
