from django.contrib import admin

from rooms.models import ModerationLog, Room, RoomBan, RoomMember, RoomRsvp


class RoomMemberInline(admin.TabularInline):
    model = RoomMember
    extra = 0
    can_delete = False
    fields = ["user", "role", "muted", "hand_raised_at", "joined_at", "last_seen", "connected"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True)
    def connected(self, member):
        return member.connected


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["title", "host", "club", "visibility", "status", "scheduled_for", "started_at"]
    list_filter = ["status", "visibility", "club"]
    search_fields = ["title", "description", "host__username", "club__name"]
    autocomplete_fields = ["host", "club", "co_hosts", "invitees"]
    list_select_related = ["host", "club"]
    readonly_fields = ["id", "seq", "started_at", "ended_at", "unmoderated_since", "created"]
    inlines = [RoomMemberInline]
    date_hierarchy = "created"


@admin.register(RoomBan)
class RoomBanAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "banned_by", "created"]
    search_fields = ["user__username", "room__title"]
    autocomplete_fields = ["user", "room", "banned_by"]
    list_select_related = ["user", "room", "banned_by"]


@admin.register(RoomRsvp)
class RoomRsvpAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "created"]
    search_fields = ["user__username", "room__title"]
    autocomplete_fields = ["user", "room"]
    list_select_related = ["user", "room"]


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    """Read-only: the log is history."""

    list_display = ["created", "actor", "action", "target", "room", "note"]
    list_filter = ["action", "created"]
    search_fields = ["actor__username", "target__username", "room__title", "note"]
    list_select_related = ["actor", "target", "room"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
