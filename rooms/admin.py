from django import forms
from django.contrib import admin, messages
from django.db.models import Count

from core.admin import ObjectActionsMixin, apply_each, form_action
from core.errors import ApplicationError
from rooms.models import Room, RoomBan, RoomMember, RoomRsvp, Topic
from rooms.services.lifecycle import room_end
from rooms.services.stage import member_remove_by_staff

# As much of a note as the moderation log keeps (it shortens longer ones).
NOTE_MAX_LENGTH = 500


class EndRoomsForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional; kept in the moderation log.",
    )


class RemoveMemberForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=RoomMember.objects.none(), help_text="They cannot come back to this room."
    )
    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional; kept in the moderation log.",
    )

    def __init__(self, *args, room: Room, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (
            RoomMember.objects.filter(room=room)
            .exclude(user_id=room.host_id)
            .select_related("user")
            .order_by("role", "user__username")
        )
        self.fields["member"].label_from_instance = lambda m: (
            f"@{m.user.username} ({m.user.name}) — {m.get_role_display()}"
        )


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
class RoomAdmin(ObjectActionsMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "host",
        "club",
        "visibility",
        "status",
        "member_count",
        "scheduled_for",
        "started_at",
    ]
    list_filter = ["status", "visibility", "language", "topics", "club"]
    search_fields = ["id", "title", "description", "host__username", "club__name"]
    autocomplete_fields = ["host", "club", "co_hosts", "invitees", "topics"]
    list_select_related = ["host", "club"]
    # The status changes only through the services (start, end), which tell the members.
    readonly_fields = [
        "id",
        "status",
        "seq",
        "started_at",
        "ended_at",
        "unmoderated_since",
        "created",
    ]
    inlines = [RoomMemberInline]
    date_hierarchy = "created"
    actions = ["end_rooms", "remove_member"]
    object_actions = {"end_rooms": "End room…", "remove_member": "Remove a member…"}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(live_members=Count("members"))

    def has_moderate_permission(self, request):
        return request.user.has_perm("rooms.moderate_room")

    def object_actions_for(self, room):
        if room.status == Room.Status.ENDED:
            return {}
        if room.status == Room.Status.SCHEDULED:
            return {"end_rooms": "Cancel room…"}
        return self.object_actions

    @admin.display(description="In the room", ordering="live_members")
    def member_count(self, room):
        return room.live_members

    @admin.action(description="End selected rooms…", permissions=["moderate"])
    def end_rooms(self, request, queryset):
        rooms = list(queryset.exclude(status=Room.Status.ENDED))
        if not rooms:
            messages.warning(request, "The selected rooms have ended already.")
            return None

        def perform(data):
            apply_each(
                request,
                rooms,
                lambda room: room_end(
                    actor=request.user,
                    room_id=room.pk,
                    reason="staff",
                    as_staff=True,
                    note=data["note"],
                ),
                done="Ended {count}; everyone inside was told and disconnected.",
                noun=("room", "rooms"),
                label=lambda room: f"“{room}”",
            )

        return form_action(
            self,
            request,
            queryset,
            form_class=EndRoomsForm,
            title="End rooms",
            submit="End for everyone",
            intro="Everyone inside is told the room ended and is disconnected.",
            perform=perform,
        )

    @admin.action(description="Remove a member…", permissions=["moderate"])
    def remove_member(self, request, queryset):
        rooms = list(queryset[:2])
        if len(rooms) != 1:
            messages.warning(request, "Pick one room to remove someone from.")
            return None
        room = rooms[0]
        if room.status != Room.Status.LIVE:
            messages.warning(request, f"“{room}” is not live: nobody is in it.")
            return None

        def perform(data):
            member = data["member"]
            try:
                member_remove_by_staff(
                    actor=request.user, room_id=room.pk, user_id=member.user_id, note=data["note"]
                )
            except ApplicationError as error:
                messages.error(request, f"@{member.user}: {error.message}")
            else:
                messages.success(request, f"Removed @{member.user} from “{room}”.")

        return form_action(
            self,
            request,
            queryset,
            form_class=RemoveMemberForm,
            form_kwargs={"room": room},
            title=f"Remove someone from “{room}”",
            submit="Remove",
            perform=perform,
        )


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


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """The curated list of topics rooms choose from (up to three each)."""

    list_display = ["name", "slug", "room_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(room_count=Count("rooms"))

    @admin.display(description="Rooms", ordering="room_count")
    def room_count(self, topic):
        return topic.room_count
