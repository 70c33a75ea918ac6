"""Who may use an account: the one place that refuses suspended and banned people.

Django asks `user_can_authenticate` when someone signs in and on every request of a signed-in
session (pages, the API's session auth and the sockets, through `get_user`); the API's token
auth asks `restriction` directly. A suspension ends by itself at `suspended_until`.
"""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField
from rest_framework import authentication, exceptions

from accounts.services.tokens import api_token_authenticate
from core.compiled import Compiled


class AccountRestrictedError(ValidationError):
    """The password was right but the account is suspended or banned; the message says why.

    A ValidationError, so every sign-in form (ours and the admin's) shows it as the form's
    error; the token API answers it with 403.
    """

    def __init__(self, message: str):
        super().__init__(message, code="account_restricted")


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """Django's check with exactly one password hash whatever the outcome (no such
        person, wrong password, locked account, success), so the time a failure takes does
        not tell which usernames exist. Someone who knows a locked account's password learns
        why it is locked."""
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user_model().set_password(password)
            return None
        if not (user.check_password(password) and super().user_can_authenticate(user)):
            return None
        restriction = user.restriction()
        if restriction is not None:
            raise AccountRestrictedError(restriction)
        return user

    async def aauthenticate(self, request, **kwargs):
        return await sync_to_async(self.authenticate)(request, **kwargs)

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and user.restriction() is None

    def get_user(self, user_id):
        """Django's, with the lookup compiled once: every signed-in request and socket
        asks it."""
        try:
            user = _USER_BY_ID.first(user_id=get_user_model()._meta.pk.to_python(user_id))
        except ValidationError:
            return None
        return user if user is not None and self.user_can_authenticate(user) else None


_USER_BY_ID = Compiled(
    lambda user_id: get_user_model()._default_manager.filter(pk=user_id),
    user_id=BigIntegerField(),
)


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` with one of the person's live API tokens, refused while
    the account is suspended or banned."""

    def authenticate_credentials(self, key):
        token = api_token_authenticate(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "That token is unknown, revoked or expired; sign in again."
            )
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("That account is deactivated.")
        restriction = user.restriction()
        if restriction is not None:
            raise exceptions.AuthenticationFailed(restriction, code="account_restricted")
        return user, token
