"""The admin app, on our admin site (core.admin_site: its sign-in is throttled)."""

from django.contrib.admin.apps import AdminConfig


class RoundtableAdminConfig(AdminConfig):
    default_site = "core.admin_site.AdminSite"
