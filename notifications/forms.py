from django import forms

from notifications.models import Notification


class PreferencesForm(forms.Form):
    """One switch per kind, and email reminders."""

    email_reminders = forms.BooleanField(
        required=False, label="Also email me 'starting soon' reminders"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Notification.Kind.choices:
            self.fields[kind] = forms.BooleanField(required=False, label=label)
        self.order_fields([*Notification.Kind.values, "email_reminders"])

    def kinds(self) -> dict[str, bool]:
        return {kind: self.cleaned_data[kind] for kind in Notification.Kind.values}
