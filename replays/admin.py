"""What was said in replays, for staff: transcripts' lines, searchable, read-only. A line
opens its replay at that moment (a report names the room; staff find what was said there)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ViewOnlyMixin
from replays.formats import clock
from replays.models import TranscriptSegment


@admin.register(TranscriptSegment)
class TranscriptSegmentAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["room", "moment", "user", "text"]
    search_fields = ["text", "transcript__replay__room__title", "user__username"]
    list_select_related = ["transcript__replay__room", "user"]
    fields = ["room", "moment", "user", "text"]
    readonly_fields = fields
    ordering = ["-transcript__replay__room__ended_at", "start"]
    show_full_result_count = False

    @admin.display(description="Room", ordering="transcript__replay__room__title")
    def room(self, segment: TranscriptSegment) -> str:
        return segment.transcript.replay.room.title

    @admin.display(description="At")
    def moment(self, segment: TranscriptSegment) -> str:
        room_id = segment.transcript.replay.room_id
        url = f"{reverse('replay', args=[room_id])}?t={int(segment.start)}"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>', url, clock(segment.start)
        )
