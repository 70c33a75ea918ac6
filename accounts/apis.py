"""API views for sign-up, tokens and one's own account. Thin: validate, call a service, shape
output."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import (
    API_TOKEN_NAME_MAX_LENGTH,
    BIO_MAX_LENGTH,
    DISPLAY_NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
)
from accounts.selectors import api_tokens_of
from accounts.serializers import UserSummarySerializer
from accounts.services.email_change import email_change_request
from accounts.services.profiles import token_obtain, user_create, user_update_profile
from accounts.services.tokens import api_token_create, api_token_revoke
from core.api import (
    UPLOAD_PARSERS,
    AuthRateThrottle,
    FormBlanksRefused,
    Pagination,
    UploadField,
    valid_body,
)
from core.schema import errors


class MeOutputSerializer(UserSummarySerializer):
    # One's own display name as set, to edit: empty when none (others see the username).
    display_name = serializers.CharField(
        allow_blank=True, help_text="As set: empty when none (others see the username)."
    )
    # Not an EmailField: an account may have no address, and "" is not an email address.
    email = serializers.CharField(help_text="An email address, or empty when none was given.")
    bio = serializers.CharField()
    date_joined = serializers.DateTimeField()


class SignupApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(serializers.Serializer):
        # The rule the account's model holds, in the schema too.
        username = serializers.RegexField(
            USERNAME_PATTERN,
            max_length=USERNAME_MAX_LENGTH,
            error_messages={"invalid": "Use 2 to 30 letters, digits or underscores."},
            help_text="2 to 30 letters, digits or underscores.",
        )
        password = serializers.CharField(max_length=128, write_only=True)
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        display_name = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=DISPLAY_NAME_MAX_LENGTH
        )

    class OutputSerializer(serializers.Serializer):
        user = MeOutputSerializer()
        token = serializers.CharField()
        email_confirmation_sent = serializers.BooleanField(
            help_text="An address was given: it becomes the account's once the link sent to "
            "it is opened; until then `user.email` is empty."
        )

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        user = user_create(**data.validated_data)
        _, key = api_token_create(user=user, name="Sign-up")
        sent = bool(data.validated_data["email"])
        body = self.OutputSerializer(
            {"user": user, "token": key, "email_confirmation_sent": sent}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=USERNAME_MAX_LENGTH)
        password = serializers.CharField(max_length=128, write_only=True)
        name = serializers.CharField(
            max_length=API_TOKEN_NAME_MAX_LENGTH,
            required=False,
            allow_blank=True,
            default="",
            help_text="What the token is for, as your token list will show it.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            **errors(403),
        },
        auth=[],
        description="A new token on every sign-in; it expires after API_TOKEN_TTL_DAYS, and a "
        "new password revokes all of them.",
    )
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        return Response({"token": token_obtain(**data.validated_data)})


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters.")
    created = serializers.DateTimeField()
    last_used = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(help_text="The token of this very request.")

    def get_current(self, token) -> bool:
        return token.pk == getattr(self.context.get("auth"), "pk", None)


class ApiTokenListApi(APIView):
    """The signed-in person's API tokens that still work."""

    pagination_class = Pagination

    @extend_schema(responses={200: ApiTokenSerializer(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(api_tokens_of(user=request.user), request, view=self)
        body = ApiTokenSerializer(page, many=True, context={"auth": request.auth}).data
        return paginator.get_paginated_response(body)


class ApiTokenDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, token_id):
        """Revokes one of your tokens (it may be the one of this request)."""
        api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    parser_classes = UPLOAD_PARSERS

    class InputSerializer(FormBlanksRefused):
        display_name = serializers.CharField(
            required=False, allow_blank=True, max_length=DISPLAY_NAME_MAX_LENGTH
        )
        bio = serializers.CharField(required=False, allow_blank=True, max_length=BIO_MAX_LENGTH)
        email = serializers.EmailField(
            required=False,
            allow_blank=True,
            help_text="A new address (sent a link; it becomes yours when opened), or empty to "
            "remove yours. Needs `password`.",
        )
        password = serializers.CharField(
            required=False,
            write_only=True,
            max_length=128,
            help_text="Your current password: changing `email` needs it.",
        )
        avatar = UploadField(
            required=False, allow_null=True, help_text="A picture; null removes it."
        )

    @extend_schema(responses={200: MeOutputSerializer})
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)

    class UpdateOutputSerializer(MeOutputSerializer):
        email_confirmation_sent = serializers.BooleanField(
            help_text="A new address was given: it becomes the account's once the link sent "
            "to it is opened; until then `email` is the old one."
        )

    @extend_schema(request=InputSerializer, responses={200: UpdateOutputSerializer, **errors(409)})
    def patch(self, request):
        data = valid_body(self.InputSerializer, request)
        changes = dict(data.validated_data)
        email, password = changes.pop("email", None), changes.pop("password", "")
        with transaction.atomic():  # a refused address leaves the profile unchanged too
            user = user_update_profile(user=request.user, **changes)
            sent = email is not None and email_change_request(
                user=user, email=email, password=password
            )
        return Response({**MeOutputSerializer(user).data, "email_confirmation_sent": sent})
