from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.backends import AccountBackend
from accounts.models import ApiToken, User, api_token_digest
from accounts.services.profiles import token_obtain, user_create, user_update_profile
from core.errors import ApplicationError
from tests.factories import PASSWORD, UserFactory
from tests.support.helpers import image_upload, png_bomb

pytestmark = pytest.mark.django_db


def test_user_create_stores_a_hashed_password_and_trims_names():
    user = user_create(username=" ada_l ", password=PASSWORD, display_name=" Ada ")
    assert user.username == "ada_l"
    assert user.display_name == "Ada"
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD


@pytest.mark.parametrize("taken", ["Ada", "ADA", "ada"])
def test_usernames_are_unique_whatever_the_case(taken):
    user_create(username="ada", password=PASSWORD)
    with pytest.raises(ValidationError) as raised:
        user_create(username=taken, password=PASSWORD)
    assert "That username is taken." in str(raised.value)
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "ada_lovelace"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError) as raised:
        user_create(username="ada_lovelace", password=password)
    assert "password" in raised.value.message_dict
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "a" * 31),
        ("username", "no spaces"),
        ("username", "x"),
        ("display_name", "n" * 51),
    ],
)
def test_bad_profile_fields_are_refused(field, value):
    kwargs = {"username": "ada", "password": PASSWORD, field: value}
    with pytest.raises(ValidationError) as raised:
        user_create(**kwargs)
    assert field in raised.value.message_dict


def test_sign_in_ignores_the_case_of_the_username():
    user_create(username="Ada", password=PASSWORD)
    key = token_obtain(username="ada", password=PASSWORD)
    assert ApiToken.objects.get(digest=api_token_digest(key)).user.username == "Ada"


def test_token_needs_the_right_password():
    UserFactory(username="ada")
    with pytest.raises(ApplicationError) as raised:
        token_obtain(username="ada", password="wrong-password")
    assert raised.value.code == "invalid_credentials"


def test_profile_update_changes_only_what_is_given(user):
    user_update_profile(user=user, bio="Hello there")
    user.refresh_from_db()
    assert user.bio == "Hello there"
    assert user.display_name  # untouched


def test_bio_has_a_length_limit(user):
    with pytest.raises(ValidationError) as raised:
        user_update_profile(user=user, bio="x" * 301)
    assert "bio" in raised.value.message_dict
    user.refresh_from_db()
    assert user.bio == ""


def test_avatar_is_normalised_to_a_small_square_png(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user_update_profile(user=user, avatar=image_upload(fmt="JPEG", name="me.jpg"))
    user.refresh_from_db()
    with Image.open(user.avatar.path) as stored:
        assert stored.format == "PNG"
        assert stored.size == (256, 256)


def test_a_file_that_is_not_a_picture_is_refused(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("me.png", b"not an image at all", content_type="image/png")
    with pytest.raises(ValidationError) as raised:
        user_update_profile(user=user, avatar=fake)
    assert "avatar" in raised.value.message_dict
    user.refresh_from_db()
    assert not user.avatar


def test_avatars_over_the_size_cap_are_refused(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.AVATAR_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as raised:
        user_update_profile(user=user, avatar=image_upload(size=(800, 800)))
    assert "too large" in str(raised.value)


@pytest.mark.parametrize(("width", "height"), [(13000, 13000), (5000, 4000), (100_000, 200)])
def test_pictures_with_too_many_pixels_are_refused_before_decoding(
    user, settings, tmp_path, width, height
):
    """A 20 KB PNG of 13000 x 13000 would decode to 676 MB of RGBA."""
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as raised:
        user_update_profile(user=user, avatar=png_bomb(width, height))
    assert raised.value.message_dict["avatar"] == [
        f"The picture is too big ({width} x {height} pixels); the limit is 16 million pixels."
    ]
    user.refresh_from_db()
    assert not user.avatar


def test_the_pixel_limit_is_a_setting(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.AVATAR_MAX_PIXELS = 640 * 480 - 1
    with pytest.raises(ValidationError, match="640 x 480 pixels"):
        user_update_profile(user=user, avatar=image_upload(size=(640, 480)))
    settings.AVATAR_MAX_PIXELS = 640 * 480
    user_update_profile(user=user, avatar=image_upload(size=(640, 480)))
    assert user.avatar


def test_replacing_the_avatar_deletes_the_old_file(
    user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=user, avatar=image_upload())
    first = user.avatar.path
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=user, avatar=None)
    user.refresh_from_db()
    assert not user.avatar
    assert not (tmp_path / first).exists()


def test_a_session_finds_its_person_unless_their_account_is_locked():
    backend = AccountBackend()
    person = UserFactory()
    assert backend.get_user(str(person.pk)) == person
    assert backend.get_user(str(UserFactory().pk)) != person
    assert backend.get_user("not a number") is None
    assert backend.get_user(str(person.pk + 1000)) is None
    User.objects.filter(pk=person.pk).update(suspended_until=timezone.now() + timedelta(days=1))
    assert backend.get_user(str(person.pk)) is None


def test_display_names_lose_direction_controls_and_keep_the_rest(user):
    """A right-to-left override in a name made the text after it read backwards."""
    created = user_create(
        username="maya", password="a-long-passphrase", display_name="Maya\u202e dlrow"
    )
    assert created.display_name == "Maya dlrow"
    user_update_profile(
        user=user,
        display_name="\u2067\u05e9\u05dc\u05d5\u05dd\u2069 Theo \U0001f468\u200d\U0001f4bb",
    )
    user.refresh_from_db()
    # Another script and an emoji sequence (its joiner included) are kept as written.
    assert user.display_name == "\u05e9\u05dc\u05d5\u05dd Theo \U0001f468\u200d\U0001f4bb"
