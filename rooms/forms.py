from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings

from accounts.forms import UsernamesField
from follows.selectors import clubs_led_by
from rooms.languages import DEFAULT_LANGUAGE, LANGUAGES
from rooms.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, TOPICS_MAX, Room
from rooms.search import KINDS, QUERY_MAX_LENGTH
from rooms.selectors import topic_list
from rooms.services.recording import recording_available

MAX_CO_HOSTS = 10
MAX_INVITEES = 500


def local_to_utc(local: datetime, zone_name: str) -> datetime:
    """The moment a wall-clock time in an IANA zone names, in UTC.

    Raises ValueError for an unknown zone or a time the zone skips (a clock change).
    """
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"Unknown time zone {zone_name!r}.") from error
    aware = local.replace(tzinfo=zone)
    moment = aware.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError("That time does not exist there: the clocks skip it.")
    return moment


def co_hosts_field() -> UsernamesField:
    return UsernamesField(
        most=MAX_CO_HOSTS,
        too_many=f"A room has at most {MAX_CO_HOSTS} co-hosts.",
        label="Co-hosts",
        help_text="People who follow you, by username. They moderate with you.",
        widget=forms.TextInput(
            attrs={"placeholder": "maya, sam", "autocomplete": "off", "data-people-picker": ""}
        ),
    )


def invitees_field() -> UsernamesField:
    return UsernamesField(
        most=MAX_INVITEES,
        too_many=f"Invite at most {MAX_INVITEES} people.",
        label="Invite people",
        help_text="People to invite, by username. Invited people may enter a closed "
        "room and hear if it moves or is cancelled.",
        widget=forms.TextInput(
            attrs={"placeholder": "theo, priya", "autocomplete": "off", "data-people-picker": ""}
        ),
    )


class ScheduleMixin:
    """A wall-clock time typed in the browser's time zone (the hidden `time_zone` field),
    turned into a moment in UTC."""

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"].strip() or "UTC"

    def _scheduled_to_utc(self, data: dict) -> None:
        local = data.get("scheduled_for")
        if local is None or "time_zone" not in data:
            return
        try:
            # The browser sends a wall-clock time; the hidden field says where that wall is.
            data["scheduled_for"] = local_to_utc(local.replace(tzinfo=None), data["time_zone"])
        except ValueError as error:
            self.add_error("scheduled_for", str(error))  # type: ignore[attr-defined]


def scheduled_for_field(**kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        label="Date and time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        **kwargs,
    )


def time_zone_field() -> forms.CharField:
    return forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-time-zone": ""})
    )


class TopicsMixin:
    """A room's topics (at most TOPICS_MAX, from the curated list) and language."""

    def _topics_from_list(self) -> None:
        self.fields["topics"].queryset = topic_list()

    def clean_topics(self) -> list:
        topics = list(self.cleaned_data["topics"])
        if len(topics) > TOPICS_MAX:
            raise forms.ValidationError(f"Pick at most {TOPICS_MAX} topics.")
        return topics


def topics_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=None,
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Up to {TOPICS_MAX}: the hallway filters by them.",
    )


def language_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=LANGUAGES, required=False, help_text="What people will speak in the room."
    )


def record_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label="Record a replay")


class RecordMixin:
    """Offers recording only where the site can record (a media server)."""

    fields: dict

    def _record_if_available(self) -> None:
        if not recording_available():
            del self.fields["record"]
            return
        self.fields["record"].help_text = (
            "The voices on stage go into a replay that people can play for "
            f"{settings.REPLAY_RETENTION_DAYS} days; everyone agrees before they speak."
        )


class RoomForm(RecordMixin, TopicsMixin, ScheduleMixin, forms.Form):
    START_NOW = "now"
    START_LATER = "later"

    title = forms.CharField(max_length=TITLE_MAX_LENGTH)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what the room is about.",
    )
    club = forms.ModelChoiceField(
        queryset=None,
        to_field_name="slug",
        required=False,
        empty_label="No club",
        help_text="Clubs where you are an admin or a leader.",
        error_messages={
            "invalid_choice": "You can host rooms only for clubs where you are an admin or a leader."
        },
    )
    visibility = forms.ChoiceField(
        choices=Room.Visibility.choices,
        initial=Room.Visibility.OPEN,
        widget=forms.RadioSelect,
        label="Who can join",
    )
    topics = topics_field()
    language = language_field()
    start = forms.ChoiceField(
        choices=[(START_NOW, "Start now"), (START_LATER, "Schedule for later")],
        initial=START_NOW,
        widget=forms.RadioSelect,
        label="When",
    )
    scheduled_for = scheduled_for_field(required=False)
    time_zone = time_zone_field()
    co_hosts = co_hosts_field()
    invitees = invitees_field()
    record = record_field()

    def __init__(self, *args, host, **kwargs):
        super().__init__(*args, **kwargs)
        self._topics_from_list()
        self._record_if_available()
        club = self.fields["club"]
        club.queryset = clubs_led_by(user=host)
        if not club.queryset.exists():
            club.help_text = "You lead no club yet: a club's admins and leaders host its rooms."

    def clean_language(self) -> str:
        # Left out, it is the page's default (from the browser's languages).
        return self.cleaned_data["language"] or self.initial.get("language", DEFAULT_LANGUAGE)

    def clean(self):
        data = super().clean()
        if data.get("start") != self.START_LATER:
            data["scheduled_for"] = None
        elif data.get("scheduled_for") is None:
            if "scheduled_for" not in self.errors:
                self.add_error("scheduled_for", "Pick a date and time for the room.")
        else:
            self._scheduled_to_utc(data)
        return data

    def room_fields(self) -> dict:
        """Keyword arguments for `room_create`."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "club": data["club"],
            "visibility": data["visibility"],
            "scheduled_for": data["scheduled_for"],
            "co_hosts": data["co_hosts"],
            "topics": data["topics"],
            "language": data["language"],
            "invitees": data["invitees"],
            "recording": data.get("record", False),
        }


class RoomEditForm(RecordMixin, TopicsMixin, ScheduleMixin, forms.Form):
    """What the host and co-hosts change on a scheduled room."""

    room: Room

    title = forms.CharField(max_length=TITLE_MAX_LENGTH)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    scheduled_for = scheduled_for_field(
        help_text="In your time zone. People who asked to be reminded, and invitees, are told "
        "of a new time."
    )
    time_zone = time_zone_field()
    topics = topics_field()
    language = language_field()
    co_hosts = co_hosts_field()
    invitees = invitees_field()
    record = record_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._topics_from_list()
        self._record_if_available()

    @classmethod
    def for_room(cls, room: Room, data=None) -> "RoomEditForm":
        """The form filled with the room as it is (its time as a UTC wall clock, which the
        page's script moves to the browser's zone, as on the new-room form)."""
        initial = {
            "title": room.title,
            "description": room.description,
            "scheduled_for": room.scheduled_for.astimezone(UTC) if room.scheduled_for else None,
            "time_zone": "UTC",
            "topics": list(room.topics.all()),
            "language": room.language,
            "co_hosts": list(room.co_hosts.order_by("username")),
            "invitees": list(room.invitees.order_by("username")),
            "record": room.recording,
        }
        form = cls(data, initial=initial)
        form.room = room
        return form

    def clean(self):
        data = super().clean()
        self._scheduled_to_utc(data)
        return data

    def cleaned_data_for_update(self) -> dict:
        """Keyword arguments for `room_update`."""
        names = ("title", "description", "scheduled_for", "topics", "co_hosts", "invitees")
        fields = {name: self.cleaned_data[name] for name in names}
        fields["language"] = self.cleaned_data["language"] or None
        if "record" in self.cleaned_data:
            fields["recording"] = self.cleaned_data["record"]
        # The form shows whole minutes: the same minute sent back is no new time.
        current = self.room.scheduled_for
        if current is not None and fields["scheduled_for"] == current.replace(
            second=0, microsecond=0
        ):
            fields["scheduled_for"] = None
        return fields


class HallwayFilterForm(forms.Form):
    """The hallway's filters, from its query string."""

    topic = forms.ModelChoiceField(
        queryset=None, to_field_name="slug", required=False, empty_label="All topics"
    )
    language = forms.ChoiceField(
        choices=[("", "All languages"), *LANGUAGES], required=False, label="Language"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topic_list()


class SearchForm(forms.Form):
    q = forms.CharField(
        max_length=QUERY_MAX_LENGTH,
        label="Search",
        error_messages={"required": "Type what to look for."},
    )
    type = forms.ChoiceField(
        choices=[("", "Everything"), *((kind, kind.capitalize()) for kind in KINDS)],
        required=False,
    )
