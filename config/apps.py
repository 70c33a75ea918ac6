"""The admin app, on our admin site (config.admin_site: its sign-in is throttled)."""

from django.contrib.admin.apps import AdminConfig


class RoundtableAdminConfig(AdminConfig):
    default_site = "config.admin_site.AdminSite"
