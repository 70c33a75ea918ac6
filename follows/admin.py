from django.contrib import admin

from follows.models import Block, Club, ClubFollow, ClubMembership, Follow


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followee", "created"]
    list_filter = ["created"]
    search_fields = ["follower__username", "followee__username"]
    autocomplete_fields = ["follower", "followee"]
    list_select_related = ["follower", "followee"]
    date_hierarchy = "created"


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["blocker", "blocked", "created"]
    list_filter = ["created"]
    search_fields = ["blocker__username", "blocked__username"]
    autocomplete_fields = ["blocker", "blocked"]
    list_select_related = ["blocker", "blocked"]


class ClubMembershipInline(admin.TabularInline):
    model = ClubMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "status", "created"]
    readonly_fields = ["created"]


@admin.register(Club)
class ClubAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "join_policy", "created_by", "created"]
    list_filter = ["join_policy", "created"]
    search_fields = ["name", "slug", "description"]
    autocomplete_fields = ["created_by"]
    list_select_related = ["created_by"]
    inlines = [ClubMembershipInline]


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
