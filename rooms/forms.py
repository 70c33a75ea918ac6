from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms

from accounts.selectors import user_get
from config.errors import ApplicationError
from follows.selectors import clubs_led_by
from rooms.languages import DEFAULT_LANGUAGE, LANGUAGES
from rooms.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, TOPICS_MAX, Room
from rooms.search import KINDS, QUERY_MAX_LENGTH
from rooms.selectors import topic_list

MAX_CO_HOSTS = 10


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


class RoomForm(forms.Form):
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
    topics = forms.ModelMultipleChoiceField(
        queryset=None,
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Up to {TOPICS_MAX}: the hallway filters by them.",
    )
    language = forms.ChoiceField(
        choices=LANGUAGES, required=False, help_text="What people will speak in the room."
    )
    start = forms.ChoiceField(
        choices=[(START_NOW, "Start now"), (START_LATER, "Schedule for later")],
        initial=START_NOW,
        widget=forms.RadioSelect,
        label="When",
    )
    scheduled_for = forms.DateTimeField(
        required=False,
        label="Date and time",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    time_zone = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-time-zone": ""})
    )
    co_hosts = forms.CharField(
        required=False,
        label="Co-hosts",
        help_text="Usernames of people who follow you, separated by commas. They moderate with you.",
        widget=forms.TextInput(attrs={"placeholder": "maya, sam", "autocomplete": "off"}),
    )

    def __init__(self, *args, host, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = topic_list()
        club = self.fields["club"]
        club.queryset = clubs_led_by(user=host)
        if not club.queryset.exists():
            club.help_text = "You lead no club yet: a club's admins and leaders host its rooms."

    def clean_topics(self) -> list:
        topics = list(self.cleaned_data["topics"])
        if len(topics) > TOPICS_MAX:
            raise forms.ValidationError(f"Pick at most {TOPICS_MAX} topics.")
        return topics

    def clean_language(self) -> str:
        # Left out, it is the page's default (from the browser's languages).
        return self.cleaned_data["language"] or self.initial.get("language", DEFAULT_LANGUAGE)

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"].strip() or "UTC"

    def clean_co_hosts(self) -> list:
        names = [name.strip().lstrip("@") for name in self.cleaned_data["co_hosts"].split(",")]
        names = list(dict.fromkeys(name for name in names if name))
        if len(names) > MAX_CO_HOSTS:
            raise forms.ValidationError(f"A room has at most {MAX_CO_HOSTS} co-hosts.")
        people, unknown = [], []
        for name in names:
            try:
                people.append(user_get(username=name))
            except ApplicationError:
                unknown.append(f"@{name}")
        if unknown:
            raise forms.ValidationError(f"There is no one called {', '.join(unknown)} here.")
        return people

    def clean(self):
        data = super().clean()
        local = data.get("scheduled_for")
        if data.get("start") != self.START_LATER:
            data["scheduled_for"] = None
        elif local is None:
            if "scheduled_for" not in self.errors:
                self.add_error("scheduled_for", "Pick a date and time for the room.")
        elif "time_zone" in data:
            try:
                # The browser sends a wall-clock time; the hidden field says where that wall is.
                data["scheduled_for"] = local_to_utc(local.replace(tzinfo=None), data["time_zone"])
            except ValueError as error:
                self.add_error("scheduled_for", str(error))
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
        }


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
