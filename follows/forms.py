from django import forms

from accounts.forms import UsernamesField
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


class ClubEditForm(forms.Form):
    """What an admin changes: the address (slug) stays, so links keep working."""

    name = forms.CharField(max_length=CLUB_NAME_MAX_LENGTH)
    description = forms.CharField(
        max_length=CLUB_DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    join_policy = forms.ChoiceField(
        choices=Club.JoinPolicy.choices, widget=forms.RadioSelect, label="Who can join"
    )
    picture = forms.FileField(
        required=False,
        help_text="PNG, JPEG, GIF or WebP; shown as a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    remove_picture = forms.BooleanField(required=False, label="Remove the picture")

    def changes(self) -> dict:
        """Keyword arguments for `club_update`."""
        data = self.cleaned_data
        fields = {name: data[name] for name in ("name", "description", "join_policy")}
        if data["remove_picture"]:
            fields["picture"] = None
        elif data["picture"]:
            fields["picture"] = data["picture"]
        return fields


class ClubInviteForm(forms.Form):
    MAX_PEOPLE = 50

    people = UsernamesField(
        most=MAX_PEOPLE,
        too_many=f"Invite at most {MAX_PEOPLE} people at once.",
        required=True,
        label="People to invite",
        help_text="People to invite, by username. Each gets a notification to accept or decline.",
        widget=forms.TextInput(
            attrs={"placeholder": "theo, priya", "autocomplete": "off", "data-people-picker": ""}
        ),
    )


class ClubDeleteForm(forms.Form):
    """Deleting asks for the club's name, typed, so that it is never a slip."""

    confirm_name = forms.CharField(label="Type the club's name to confirm", max_length=100)

    def __init__(self, *args, club, **kwargs):
        super().__init__(*args, **kwargs)
        self.club = club

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed.casefold() != self.club.name.casefold():
            raise forms.ValidationError(f"Type {self.club.name} to delete it.")
        return typed
