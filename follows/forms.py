from django import forms

from follows.models import CLUB_DESCRIPTION_MAX_LENGTH, CLUB_NAME_MAX_LENGTH, Club


class ClubForm(forms.Form):
    name = forms.CharField(max_length=CLUB_NAME_MAX_LENGTH)
    slug = forms.CharField(
        max_length=50,
        required=False,
        label="Address",
        help_text="/clubs/<address>/ — lowercase letters, digits and hyphens. Left empty, it comes from the name.",
    )
    description = forms.CharField(
        max_length=CLUB_DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    join_policy = forms.ChoiceField(
        choices=Club.JoinPolicy.choices, initial=Club.JoinPolicy.OPEN, widget=forms.RadioSelect
    )
