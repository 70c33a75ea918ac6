"""Staff's console for moderation: the report queue, the log, and the restrictions on people.

Restrictions (suspend, ban, reinstate) and report handling go through actions that call the
services, so each is logged and closes the person's sockets. The people admin is the
accounts app's, extended here with the reports about a person and those actions.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import RestrictionFilter
from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import RESTRICTION_REASON_MAX_LENGTH, User
from chat.models import Message
from core.admin import ObjectActionsMixin, ViewOnlyMixin, apply_each, form_action
from core.errors import ApplicationError
from moderation.models import STAFF_NOTE_MAX_LENGTH, ModerationLog, Report
from moderation.services.reports import report_dismiss, report_resolve
from moderation.services.restrictions import user_ban, user_reinstate, user_suspend
from replays.formats import clock
from rooms.models import Room
from rooms.services.lifecycle import room_end

PEOPLE, REPORTS, ROOMS = ("person", "people"), ("report", "reports"), ("room", "rooms")
# Messages shown on each side of a reported one, so staff read it in its conversation.
MESSAGE_CONTEXT = 5
SUSPENSIONS = {
    "1h": ("1 hour", timedelta(hours=1)),
    "1d": ("1 day", timedelta(days=1)),
    "3d": ("3 days", timedelta(days=3)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "365d": ("1 year", timedelta(days=365)),
}


class SuspendForm(forms.Form):
    duration = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in SUSPENSIONS.items()], initial="7d"
    )
    reason = forms.CharField(
        max_length=RESTRICTION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The person sees it when they try to sign in.",
    )

    def clean_duration(self) -> timedelta:
        return SUSPENSIONS[self.cleaned_data["duration"]][1]


class BanForm(forms.Form):
    reason = forms.CharField(
        max_length=RESTRICTION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The person sees it when they try to sign in.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=STAFF_NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional; kept with the report and in the moderation log.",
    )


class OpenReportsFilter(admin.SimpleListFilter):
    title = "open reports"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("yes", "Has open reports")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(open_reports__gt=0)
        return queryset


class ReportsReceivedInline(admin.TabularInline):
    model = Report
    fk_name = "reported_user"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Reports about this person"
    fields = ["last_reported", "status", "reason", "text", "reporter", "reported_room", "times"]
    readonly_fields = fields
    ordering = ["-last_reported"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(ObjectActionsMixin, AccountsUserAdmin):
    list_display = [
        "username",
        "display_name",
        "email",
        "is_active",
        "restriction_status",
        "open_reports",
        "is_staff",
        "date_joined",
    ]
    list_filter = [
        "is_active",
        RestrictionFilter,
        OpenReportsFilter,
        "is_staff",
        "is_superuser",
        "date_joined",
    ]
    inlines = [ReportsReceivedInline]
    actions = ["suspend_users", "ban_users", "reinstate_users"]
    object_actions = {
        "suspend_users": "Suspend…",
        "ban_users": "Ban…",
        "reinstate_users": "Lift suspension or ban",
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_reports=Count("reports_received", filter=Q(reports_received__status="open"))
            )
        )

    def has_suspend_permission(self, request):
        return request.user.has_perm("accounts.suspend_user")

    @admin.display(description="Open reports", ordering="open_reports")
    def open_reports(self, user):
        if not user.open_reports:
            return 0
        url = reverse("admin:moderation_report_changelist")
        return format_html(
            '<a href="{}?reported_user__id__exact={}&status__exact=open">{}</a>',
            url,
            user.pk,
            user.open_reports,
        )

    @admin.action(description="Suspend selected people…", permissions=["suspend"])
    def suspend_users(self, request, queryset):
        def perform(data):
            apply_each(
                request,
                queryset,
                lambda user: user_suspend(
                    actor=request.user, user=user, duration=data["duration"], reason=data["reason"]
                ),
                done="Suspended {count}; their connections are closing.",
                noun=PEOPLE,
                label=lambda user: f"@{user}",
            )

        return form_action(
            self,
            request,
            queryset,
            form_class=SuspendForm,
            title="Suspend people",
            submit="Suspend",
            intro="They are signed out everywhere and cannot sign in until the suspension ends.",
            perform=perform,
        )

    @admin.action(description="Ban selected people…", permissions=["suspend"])
    def ban_users(self, request, queryset):
        def perform(data):
            apply_each(
                request,
                queryset,
                lambda user: user_ban(actor=request.user, user=user, reason=data["reason"]),
                done="Banned {count}; their connections are closing.",
                noun=PEOPLE,
                label=lambda user: f"@{user}",
            )

        return form_action(
            self,
            request,
            queryset,
            form_class=BanForm,
            title="Ban people",
            submit="Ban",
            intro="They are signed out everywhere and cannot sign in until staff lift the ban.",
            perform=perform,
        )

    @admin.action(description="Lift suspension or ban", permissions=["suspend"])
    def reinstate_users(self, request, queryset):
        apply_each(
            request,
            queryset,
            lambda user: user_reinstate(actor=request.user, user=user),
            done="{count} may sign in again.",
            noun=PEOPLE,
            label=lambda user: f"@{user}",
        )


@admin.register(Report)
class ReportAdmin(ObjectActionsMixin, admin.ModelAdmin):
    """The queue, newest first; the index links to the open ones. Reports are handled through
    the actions (also offered as buttons on each report's page)."""

    list_display = [
        "id",
        "last_reported",
        "status",
        "reason",
        "target",
        "reporter",
        "times",
        "handled_by",
    ]
    list_display_links = ["id", "last_reported"]
    list_filter = ["status", "reason", "created", "handled_at"]
    search_fields = [
        "reporter__username",
        "reported_user__username",
        "reported_user__display_name",
        "reported_room__title",
        "text",
        "staff_note",
    ]
    list_select_related = [
        "reporter",
        "reported_user",
        "reported_room",
        "handled_by",
        "message__author",
    ]
    date_hierarchy = "created"
    fields = [
        "status",
        "reason",
        "text",
        "reported_user_link",
        "reported_room_link",
        "replay_moment",
        "reported_message",
        "reporter",
        "times",
        "created",
        "last_reported",
        "handled_by",
        "handled_at",
        "staff_note",
    ]
    readonly_fields = [f for f in fields if f != "staff_note"]
    actions = [
        "resolve_reports",
        "dismiss_reports",
        "suspend_reported_users",
        "end_reported_rooms",
    ]
    object_actions = {
        "resolve_reports": "Resolve…",
        "dismiss_reports": "Dismiss…",
        "suspend_reported_users": "Suspend the reported person…",
        "end_reported_rooms": "End the reported room…",
    }

    def has_add_permission(self, request):
        return False

    def has_suspend_permission(self, request):
        return request.user.has_perm("accounts.suspend_user")

    def object_actions_for(self, report):
        if not report.is_open:
            return {}
        offered = dict(self.object_actions)
        if report.reported_user_id is None:
            del offered["suspend_reported_users"]
        if report.reported_room is None or report.reported_room.status == Room.Status.ENDED:
            del offered["end_reported_rooms"]
        return offered

    def has_end_room_permission(self, request):
        return request.user.has_perm("rooms.moderate_room")

    @admin.display(description="About")
    def target(self, report):
        return report.target_label

    @admin.display(description="Reported person")
    def reported_user_link(self, report):
        if report.reported_user is None:
            return "—"
        user = report.reported_user
        url = reverse("admin:accounts_user_change", args=[user.pk])
        restriction = user.restriction()
        return format_html(
            '<a href="{}">@{} ({})</a>{}',
            url,
            user.username,
            user.name,
            f" — {restriction}" if restriction else "",
        )

    @admin.display(description="Reported room")
    def reported_room_link(self, report):
        if report.reported_room is None:
            return "—"
        room = report.reported_room
        url = reverse("admin:rooms_room_change", args=[room.pk])
        return format_html(
            '<a href="{}">{}</a> ({}, hosted by @{})',
            url,
            room.title,
            room.get_status_display(),
            room.host.username,
        )

    @admin.display(description="Moment of the replay")
    def replay_moment(self, report):
        """Where in the room's replay the report points, opening the replay there (staff
        hear it and read what was said around it)."""
        if report.replay_at is None:
            return "—"
        url = f"{reverse('replay', args=[report.reported_room_id])}?t={int(report.replay_at)}"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', url, clock(report.replay_at)
        )

    @admin.display(description="Reported message")
    def reported_message(self, report):
        """The message among the ones around it (deleted ones too: staff see what was
        said), and a link to the room's whole chat."""
        message = report.message
        if message is None:
            return "—"
        around = Message.objects.filter(room_id=message.room_id).select_related("author")
        earlier = around.filter(pk__lt=message.pk).order_by("-pk")[:MESSAGE_CONTEXT]
        later = around.filter(pk__gt=message.pk).order_by("pk")[:MESSAGE_CONTEXT]
        rows = format_html_join(
            "",
            '<li class="{}"><time datetime="{}">{}</time> <b>@{}</b>{}: {}</li>',
            (
                (
                    "reported-message" if each.pk == message.pk else "",
                    each.created.isoformat(),
                    f"{each.created:%H:%M:%S}",
                    each.author.username,
                    " (deleted)" if each.is_deleted else "",
                    each.text,
                )
                for each in [*reversed(earlier), message, *later]
            ),
        )
        url = reverse("admin:chat_message_changelist") + f"?room__id__exact={message.room_id}"
        return format_html(
            '<ol class="chat-context">{}</ol><a href="{}">The room\'s whole chat</a>', rows, url
        )

    def _handle(self, request, queryset, *, service, title, submit, done):
        def perform(data):
            apply_each(
                request,
                queryset,
                lambda report: service(actor=request.user, report_id=report.pk, note=data["note"]),
                done=done,
                noun=REPORTS,
                label=lambda report: f"Report #{report.pk}",
            )

        return form_action(
            self,
            request,
            queryset,
            form_class=NoteForm,
            title=title,
            submit=submit,
            perform=perform,
        )

    @admin.action(description="Resolve selected reports…", permissions=["change"])
    def resolve_reports(self, request, queryset):
        return self._handle(
            request,
            queryset,
            service=report_resolve,
            title="Resolve reports",
            submit="Resolve",
            done="Resolved {count}.",
        )

    @admin.action(description="Dismiss selected reports…", permissions=["change"])
    def dismiss_reports(self, request, queryset):
        return self._handle(
            request,
            queryset,
            service=report_dismiss,
            title="Dismiss reports",
            submit="Dismiss",
            done="Dismissed {count}.",
        )

    @admin.action(description="Suspend the reported people…", permissions=["change", "suspend"])
    def suspend_reported_users(self, request, queryset):
        reports = list(queryset.filter(reported_user__isnull=False).select_related("reported_user"))
        people = list(
            {report.reported_user_id: report.reported_user for report in reports}.values()
        )
        if not people:
            messages.warning(request, "None of the selected reports is about a person.")
            return None

        def perform(data):
            suspended = apply_each(
                request,
                people,
                lambda user: user_suspend(
                    actor=request.user, user=user, duration=data["duration"], reason=data["reason"]
                ),
                done="Suspended {count}; their connections are closing.",
                noun=PEOPLE,
                label=lambda user: f"@{user}",
            )
            suspended_ids = {user.pk for user in suspended}
            for report in reports:
                if report.reported_user_id in suspended_ids:
                    self._resolve_quietly(request, report, f"Suspended: {data['reason']}")

        return form_action(
            self,
            request,
            queryset,
            form_class=SuspendForm,
            title="Suspend the reported people",
            submit="Suspend and resolve",
            intro="Suspends "
            + ", ".join(f"@{user}" for user in people)
            + " and resolves these reports.",
            perform=perform,
        )

    @admin.action(description="End the reported rooms…", permissions=["change", "end_room"])
    def end_reported_rooms(self, request, queryset):
        reports = list(queryset.filter(reported_room__isnull=False))
        room_ids = list(dict.fromkeys(report.reported_room_id for report in reports))
        rooms = list(Room.objects.filter(pk__in=room_ids).exclude(status=Room.Status.ENDED))
        if not rooms:
            messages.warning(request, "None of the selected reports is about a room still open.")
            return None

        def perform(data):
            ended = apply_each(
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
                noun=ROOMS,
                label=lambda room: f"“{room}”",
            )
            ended_ids = {room.pk for room in ended}
            for report in reports:
                if report.reported_room_id in ended_ids:
                    self._resolve_quietly(request, report, "Ended the room.")

        return form_action(
            self,
            request,
            queryset,
            form_class=NoteForm,
            title="End the reported rooms",
            submit="End and resolve",
            intro="Ends "
            + ", ".join(f"“{room}”" for room in rooms)
            + " for everyone inside and resolves these reports.",
            perform=perform,
        )

    def _resolve_quietly(self, request, report, note):
        if report.is_open:
            try:
                report_resolve(actor=request.user, report_id=report.pk, note=note)
            except ApplicationError as error:
                messages.error(request, f"Report #{report.pk}: {error.message}")


class ReportedRoomFilter(admin.SimpleListFilter):
    title = "room"
    parameter_name = "room__id__exact"

    def lookups(self, request, model_admin):
        rooms = Room.objects.filter(reports__isnull=False).distinct().order_by("-created")[:50]
        return [(str(room.pk), room.title) for room in rooms]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(room_id=self.value())
        return queryset


@admin.register(Message)
class MessageAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Chat history, read-only, and only of rooms someone reported: staff look at a
    conversation because of a report, not to read every room's chat."""

    list_display = ["created", "room", "author", "text", "deleted_at", "deleted_by"]
    list_filter = [ReportedRoomFilter, "created"]
    search_fields = ["author__username", "text", "room__title"]
    list_select_related = ["room", "author", "deleted_by"]
    fields = ["room", "author", "text", "reply_to", "created", "deleted_at", "deleted_by"]
    readonly_fields = fields
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(room__reports__isnull=False).distinct()


@admin.register(ModerationLog)
class ModerationLogAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Read-only: the log is history."""

    list_display = ["created", "actor", "action", "target", "room", "club", "note"]
    list_filter = [
        "action",
        "created",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("club", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "actor__username",
        "target__username",
        "target__display_name",
        "room__title",
        "room__id",
        "club__name",
        "note",
    ]
    list_select_related = ["actor", "target", "room", "club"]
    date_hierarchy = "created"
