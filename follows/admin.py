from django.contrib import admin

from follows.models import Block, Club, ClubBan, ClubFollow, ClubInvite, ClubMembership, Follow


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followee", "created"]
    list_filter = ["created"]
    search_fields = [
        "follower__username",
        "follower__display_name",
        "followee__username",
        "followee__display_name",
    ]
    autocomplete_fields = ["follower", "followee"]
    list_select_related = ["follower", "followee"]
    date_hierarchy = "created"


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["blocker", "blocked", "created"]
    list_filter = ["created"]
    search_fields = [
        "blocker__username",
        "blocker__display_name",
        "blocked__username",
        "blocked__display_name",
    ]
    autocomplete_fields = ["blocker", "blocked"]
    list_select_related = ["blocker", "blocked"]


class ClubMembershipInline(admin.TabularInline):
    model = ClubMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "status", "created"]
    readonly_fields = ["created"]


class ClubBanInline(admin.TabularInline):
    """Read-only: club admins ban and lift bans from the club's page, which logs it."""

    model = ClubBan
    extra = 0
    can_delete = False
    fields = ["user", "banned_by", "reason", "created"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Club)
class ClubAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "join_policy", "created_by", "created"]
    list_filter = ["join_policy", "created"]
    search_fields = ["name", "slug", "description"]
    autocomplete_fields = ["created_by"]
    list_select_related = ["created_by"]
    inlines = [ClubMembershipInline, ClubBanInline]


@admin.register(ClubMembership)
class ClubMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "club", "role", "status", "created"]
    list_filter = ["role", "status", "club"]
    search_fields = ["user__username", "club__name", "club__slug"]
    autocomplete_fields = ["user", "club"]
    list_select_related = ["user", "club"]


@admin.register(ClubFollow)
class ClubFollowAdmin(admin.ModelAdmin):
    list_display = ["user", "club", "created"]
    search_fields = ["user__username", "club__name"]
    autocomplete_fields = ["user", "club"]
    list_select_related = ["user", "club"]


@admin.register(ClubBan)
class ClubBanAdmin(admin.ModelAdmin):
    """Read-only: bans are a club admin's decision, made and lifted on the club's page."""

    list_display = ["user", "club", "banned_by", "reason", "created"]
    list_filter = ["club", "created"]
    search_fields = ["user__username", "user__display_name", "club__name", "club__slug", "reason"]
    list_select_related = ["user", "club", "banned_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ClubInvite)
class ClubInviteAdmin(admin.ModelAdmin):
    list_display = ["user", "club", "invited_by", "created"]
    search_fields = ["user__username", "club__name"]
    autocomplete_fields = ["user", "club", "invited_by"]
    list_select_related = ["user", "club", "invited_by"]
