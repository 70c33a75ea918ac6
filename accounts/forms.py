from django import forms

from accounts.models import BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, USERNAME_MAX_LENGTH
from accounts.selectors import user_get
from core.errors import ApplicationError


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=USERNAME_MAX_LENGTH,
        help_text="2 to 30 letters, digits or underscores. People find you by it.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX_LENGTH, required=False, help_text="Optional; shown on stage."
    )
    email = forms.EmailField(
        required=False,
        help_text="Optional; for reminders you ask for and a forgotten password. We send it a "
        "link to confirm it is yours.",
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password.",
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=DISPLAY_NAME_MAX_LENGTH, required=False)
    bio = forms.CharField(
        max_length=BIO_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Up to {BIO_MAX_LENGTH} characters.",
    )
    email = forms.EmailField(
        required=False,
        help_text="A new address is sent a link; it becomes yours when you open it.",
    )
    current_password = forms.CharField(
        required=False,
        strip=False,
        label="Current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed to change or remove your address.",
    )
    avatar = forms.FileField(
        required=False,
        label="Picture",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove my picture")


class UsernamesField(forms.CharField):
    """People named by username (with or without @), separated by commas, spaces or lines:
    the list without script, which the people picker (static/js/people-picker.js) fills."""

    def __init__(self, *, most: int, too_many: str, **kwargs):
        self.most, self.too_many = most, too_many
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value) -> list:
        text = super().clean(value) or ""
        names = [name.lstrip("@") for name in text.replace(",", " ").split()]
        names = list(dict.fromkeys(name for name in names if name))
        if len(names) > self.most:
            raise forms.ValidationError(self.too_many)
        people, unknown = [], []
        for name in names:
            try:
                people.append(user_get(username=name))
            except ApplicationError:
                unknown.append(f"@{name}")
        if unknown:
            raise forms.ValidationError(f"There is no one called {', '.join(unknown)} here.")
        return people

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(getattr(person, "username", str(person)) for person in value)
        return value
