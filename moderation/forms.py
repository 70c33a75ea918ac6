from django import forms

from moderation.models import REPORT_TEXT_MAX_LENGTH, Report


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Report.Reason.choices, widget=forms.RadioSelect, label="What is wrong?"
    )
    text = forms.CharField(
        max_length=REPORT_TEXT_MAX_LENGTH,
        required=False,
        label="Details",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: what happened, and where. Only site staff read reports.",
    )
