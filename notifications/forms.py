from functools import cache
from zoneinfo import available_timezones

from django import forms

from notifications.models import Notification


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [
        ("", "UTC"),
        *((name, name.replace("_", " ")) for name in sorted(available_timezones())),
    ]


class PreferencesForm(forms.Form):
    """One switch per kind, email reminders, and the quiet hours of pushes to devices."""

    email_reminders = forms.BooleanField(
        required=False, label="Also email me 'starting soon' reminders"
    )
    quiet_start = forms.TimeField(
        required=False,
        label="From",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        required=False,
        label="Until",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    time_zone = forms.ChoiceField(required=False, label="Time zone", choices=time_zone_choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Notification.Kind.choices:
            self.fields[kind] = forms.BooleanField(required=False, label=label)
        self.order_fields([*Notification.Kind.values, "email_reminders"])

    def kinds(self) -> dict[str, bool]:
        return {kind: self.cleaned_data[kind] for kind in Notification.Kind.values}

    def switches(self) -> list[forms.BoundField]:
        return [self[name] for name in [*Notification.Kind.values, "email_reminders"]]
