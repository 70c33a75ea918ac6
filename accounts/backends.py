"""Who may use an account: the one place that refuses suspended and banned people.

Django asks `user_can_authenticate` when someone signs in and on every request of a signed-in
session (pages, the API's session auth and the sockets, through `get_user`); the API's token
auth asks `restriction` directly. A suspension ends by itself at `suspended_until`.
"""

from django.contrib.auth.backends import ModelBackend
from rest_framework import authentication, exceptions


class AccountBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and user.restriction() is None


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, refused while the account is suspended or banned."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        restriction = user.restriction()
        if restriction is not None:
            raise exceptions.AuthenticationFailed(restriction, code="account_restricted")
        return user, token
