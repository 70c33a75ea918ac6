from django.contrib import admin

from notifications.models import ClubMute, FanOut, Notification, PersonMute, Preferences


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


admin.site.register(PersonMute, raw_id_fields=("user", "muted"))
admin.site.register(ClubMute, raw_id_fields=("user", "club"))
