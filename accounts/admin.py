"""Staff's console for people.

Non-superusers (the Moderators group) cannot touch passwords, staff rights, groups or other
staff accounts. The moderation app registers this admin's subclass, which adds the reports
about a person and the restrictions (suspend, ban, reinstate).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone

from accounts.models import User


class RestrictionFilter(admin.SimpleListFilter):
    title = "suspended or banned"
    parameter_name = "restricted"

    def lookups(self, request, model_admin):
        return [("suspended", "Suspended now"), ("banned", "Banned"), ("no", "Neither")]

    def queryset(self, request, queryset):
        suspended = Q(suspended_until__gt=timezone.now())
        banned = Q(banned_at__isnull=False)
        if self.value() == "suspended":
            return queryset.filter(suspended, banned_at__isnull=True)
        if self.value() == "banned":
            return queryset.filter(banned)
        if self.value() == "no":
            return queryset.exclude(suspended | banned)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "email",
        "is_active",
        "restriction_status",
        "is_staff",
        "date_joined",
    ]
    list_filter = [
        "is_active",
        RestrictionFilter,
        "is_staff",
        "is_superuser",
        "date_joined",
    ]
    search_fields = ["username", "email", "display_name"]
    ordering = ["-date_joined"]
    readonly_fields = [
        "date_joined",
        "last_login",
        "suspended_until",
        "banned_at",
        "restriction_reason",
    ]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Profile", {"fields": ["display_name", "email", "bio", "avatar"]}),
        (
            "Suspension and ban",
            {
                "fields": ["suspended_until", "banned_at", "restriction_reason"],
                "description": "Changed only with the Suspend, Ban and Lift buttons above (or "
                "the list's actions), which log it and disconnect the person.",
            },
        ),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "email", "password1", "password2"]}),
    ]
    # Only superusers hand out rights or lock accounts outside the logged actions.
    SUPERUSER_ONLY_FIELDS = ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += self.SUPERUSER_ONLY_FIELDS
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        # The password field links to the change-password form, which is superuser-only.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
            for name, options in fieldsets
        ]

    def has_change_permission(self, request, obj=None):
        if (
            obj is not None
            and (obj.is_staff or obj.is_superuser)
            and not request.user.is_superuser
            and obj.pk != request.user.pk
        ):
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.display(description="Restriction")
    def restriction_status(self, user):
        if user.is_banned:
            return "Banned"
        if user.is_suspended():
            return f"Suspended until {timezone.localtime(user.suspended_until):%Y-%m-%d %H:%M}"
        return "—"
