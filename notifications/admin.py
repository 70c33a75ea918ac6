from urllib.parse import urlsplit

from django.contrib import admin

from notifications.models import (
    ClubMute,
    FanOut,
    Notification,
    PersonMute,
    Preferences,
    PushSubscription,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "actor", "room", "club", "created", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username", "actor__username", "room__title")
    raw_id_fields = ("recipient", "actor", "room", "club")
    date_hierarchy = "created"
    list_select_related = ("recipient", "actor", "room", "club")


@admin.register(FanOut)
class FanOutAdmin(admin.ModelAdmin):
    """Room events and their fan-out: one that stays unplanned means the worker is down."""

    list_display = ("room", "kind", "created", "planned_at", "recipients")
    list_filter = ("kind",)
    raw_id_fields = ("room",)
    list_select_related = ("room",)


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", "email_reminders")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    exclude = ("calendar_token",)


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """People's browsers that get Web Push. Staff may look and delete (the browser then gets
    nothing until its page subscribes again); what the browser sent is not edited here, and
    its keys are not shown."""

    list_display = ("user", "service", "user_agent", "created", "last_success", "failures")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "endpoint", "user_agent", "created", "last_success", "failures")
    readonly_fields = fields

    @admin.display(description="push service")
    def service(self, subscription: PushSubscription) -> str:
        return urlsplit(subscription.endpoint).hostname or ""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin.site.register(PersonMute, raw_id_fields=("user", "muted"))
admin.site.register(ClubMute, raw_id_fields=("user", "club"))
