"""API views for follows, blocks and clubs."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get
from accounts.serializers import UserSummarySerializer
from core.api import UPLOAD_PARSERS, FormBlanksRefused, Pagination, UploadField, valid_body
from core.errors import ApplicationError
from core.schema import errors
from follows import services
from follows.models import CLUB_DESCRIPTION_MAX_LENGTH, CLUB_NAME_MAX_LENGTH, Club, ClubMembership
from follows.permissions import club_membership_as_admin, follow_lists_visible
from follows.selectors import (
    club_bans,
    club_get,
    club_list,
    club_members,
    followers_list,
    following_list,
    user_profile_get,
)

FollowState = inline_serializer("FollowState", {"following": serializers.BooleanField()})
BlockState = inline_serializer("BlockState", {"blocked": serializers.BooleanField()})


class PersonSerializer(UserSummarySerializer):
    you_follow = serializers.BooleanField()


def _people_page(request, view, follows, person_attr: str) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(follows, request, view=view)
    people = []
    for follow in page:
        person = getattr(follow, person_attr)
        person.you_follow = follow.viewer_follows
        people.append(person)
    return paginator.get_paginated_response(PersonSerializer(people, many=True).data)


class UserFollowApi(APIView):
    @extend_schema(request=None, responses={200: FollowState, 201: FollowState})
    def post(self, request, username):
        _, created = services.follow_create(
            follower=request.user, followee=user_get(username=username)
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"following": True}, status=code)

    @extend_schema(responses={200: FollowState})
    def delete(self, request, username):
        services.follow_delete(follower=request.user, followee=user_get(username=username))
        return Response({"following": False})


class UserFollowersApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: PersonSerializer(many=True)})
    def get(self, request, username):
        user = user_get(username=username)
        follow_lists_visible(user=user, viewer=request.user)
        return _people_page(
            request, self, followers_list(user=user, viewer=request.user), "follower"
        )


class UserFollowingApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses={200: PersonSerializer(many=True)})
    def get(self, request, username):
        user = user_get(username=username)
        follow_lists_visible(user=user, viewer=request.user)
        return _people_page(
            request, self, following_list(user=user, viewer=request.user), "followee"
        )


class UserBlockApi(APIView):
    @extend_schema(request=None, responses={200: BlockState, 201: BlockState})
    def post(self, request, username):
        _, created = services.block_create(
            blocker=request.user, blocked=user_get(username=username)
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"blocked": True}, status=code)

    @extend_schema(responses={200: BlockState})
    def delete(self, request, username):
        services.block_delete(blocker=request.user, blocked=user_get(username=username))
        return Response({"blocked": False})


class ClubOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    join_policy = serializers.ChoiceField(choices=Club.JoinPolicy.choices)
    member_count = serializers.IntegerField()
    follower_count = serializers.IntegerField()
    your_membership = serializers.SerializerMethodField()
    you_follow = serializers.BooleanField(source="viewer_follows")
    you_are_invited = serializers.BooleanField(source="viewer_invited")
    picture_url = serializers.SerializerMethodField()
    owner = UserSummarySerializer(allow_null=True)
    ownership_offered_to = UserSummarySerializer(
        source="owner_offered_to",
        allow_null=True,
        help_text="The member the owner offered the club to, until they answer.",
    )
    created = serializers.DateTimeField()

    def get_picture_url(self, club) -> str | None:
        return club.picture.url if club.picture else None

    def get_your_membership(self, club) -> dict | None:
        if not club.viewer_status:
            return None
        return {"status": club.viewer_status, "role": club.viewer_role}


class ClubListApi(APIView):
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=CLUB_NAME_MAX_LENGTH)
        # The model's rule, in the schema too (empty: made from the name).
        slug = serializers.RegexField(
            r"^(?:[a-z0-9]+(?:-[a-z0-9]+)*)?$",
            max_length=50,
            required=False,
            allow_blank=True,
            default="",
            error_messages={"invalid": "Use lowercase letters, digits and single hyphens."},
        )
        description = serializers.CharField(
            max_length=CLUB_DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default=""
        )
        join_policy = serializers.ChoiceField(
            choices=Club.JoinPolicy.choices, default=Club.JoinPolicy.OPEN
        )

    @extend_schema(responses={200: ClubOutputSerializer(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(club_list(viewer=request.user), request, view=self)
        return paginator.get_paginated_response(ClubOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ClubOutputSerializer, **errors(409)})
    def post(self, request):
        data = valid_body(self.InputSerializer, request)
        club = services.club_create(creator=request.user, **data.validated_data)
        body = ClubOutputSerializer(club_get(slug=club.slug, viewer=request.user)).data
        return Response(body, status=status.HTTP_201_CREATED)


class ClubDetailApi(APIView):
    parser_classes = UPLOAD_PARSERS

    class UpdateSerializer(FormBlanksRefused):
        name = serializers.CharField(max_length=CLUB_NAME_MAX_LENGTH, required=False)
        description = serializers.CharField(
            max_length=CLUB_DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
        )
        join_policy = serializers.ChoiceField(choices=Club.JoinPolicy.choices, required=False)
        picture = UploadField(
            required=False, allow_null=True, help_text="A picture; null removes it."
        )

    @extend_schema(responses={200: ClubOutputSerializer})
    def get(self, request, slug):
        return Response(ClubOutputSerializer(club_get(slug=slug, viewer=request.user)).data)

    @extend_schema(
        request=UpdateSerializer,
        responses={200: ClubOutputSerializer, **errors(409)},
        description="An admin changes the club: only the fields sent change. A name another "
        "club has, or one that looks like it, is refused (409 `name_taken`).",
    )
    def patch(self, request, slug):
        data = valid_body(self.UpdateSerializer, request)
        club = services.club_update(
            actor=request.user, club=club_get(slug=slug), **data.validated_data
        )
        return Response(ClubOutputSerializer(club_get(slug=club.slug, viewer=request.user)).data)

    @extend_schema(
        responses={204: None},
        description="The owner deletes the club; its scheduled rooms are cancelled and the "
        "people waiting for them are told.",
    )
    def delete(self, request, slug):
        services.club_delete(actor=request.user, club=club_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClubOwnerApi(APIView):
    """The owner offers the club to another member, who owns it once they accept
    (`POST .../owner/answer/`); DELETE withdraws the offer."""

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=30)

    @extend_schema(request=InputSerializer, responses={200: ClubOutputSerializer, **errors(409)})
    def post(self, request, slug):
        data = valid_body(self.InputSerializer, request)
        club = services.club_ownership_offer(
            actor=request.user,
            club=club_get(slug=slug),
            user=user_get(username=data.validated_data["username"]),
        )
        return Response(ClubOutputSerializer(club_get(slug=club.slug, viewer=request.user)).data)

    @extend_schema(responses={200: ClubOutputSerializer})
    def delete(self, request, slug):
        club = services.club_ownership_offer(
            actor=request.user, club=club_get(slug=slug), user=None
        )
        return Response(ClubOutputSerializer(club_get(slug=club.slug, viewer=request.user)).data)


class ClubOwnerAnswerApi(APIView):
    """The member offered the club accepts it (they own it from now on) or declines it."""

    class InputSerializer(serializers.Serializer):
        accept = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={200: ClubOutputSerializer, **errors(409)})
    def post(self, request, slug):
        data = valid_body(self.InputSerializer, request)
        club = services.club_ownership_answer(
            user=request.user, club=club_get(slug=slug), accept=data.validated_data["accept"]
        )
        return Response(ClubOutputSerializer(club_get(slug=club.slug, viewer=request.user)).data)


class ClubInvitationApi(APIView):
    """The invited person's answer: accepting is joining (`POST .../membership/`, which skips
    approval), declining drops the invitation."""

    @extend_schema(responses={204: None})
    def delete(self, request, slug):
        services.club_invite_decline(user=request.user, club=club_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MembershipSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    role = serializers.ChoiceField(choices=ClubMembership.Role.choices)
    status = serializers.ChoiceField(choices=ClubMembership.Status.choices)
    created = serializers.DateTimeField()


class ClubMembershipApi(APIView):
    """The signed-in person's own membership: join (or ask to) and leave."""

    @extend_schema(request=None, responses={201: MembershipSerializer, **errors(409)})
    def post(self, request, slug):
        membership = services.club_join(user=request.user, club=club_get(slug=slug))
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **errors(409)})
    def delete(self, request, slug):
        services.club_leave(user=request.user, club=club_get(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClubFollowApi(APIView):
    @extend_schema(request=None, responses={200: FollowState, 201: FollowState})
    def post(self, request, slug):
        _, created = services.club_follow_create(user=request.user, club=club_get(slug=slug))
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"following": True}, status=code)

    @extend_schema(responses={200: FollowState})
    def delete(self, request, slug):
        services.club_follow_delete(user=request.user, club=club_get(slug=slug))
        return Response({"following": False})


class ClubMembersApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                enum=ClubMembership.Status.values,
                description="`pending` lists requests to join; admins only.",
            )
        ],
        responses={200: MembershipSerializer(many=True)},
    )
    def get(self, request, slug):
        club = club_get(slug=slug)
        wanted = request.query_params.get("status", ClubMembership.Status.ACTIVE)
        if wanted not in ClubMembership.Status.values:
            raise ApplicationError("The status filter is `active` or `pending`.")
        if wanted == ClubMembership.Status.PENDING:
            club_membership_as_admin(user=request.user, club=club)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            club_members(club=club, status=wanted), request, view=self
        )
        return paginator.get_paginated_response(MembershipSerializer(page, many=True).data)


class ClubInvitesApi(APIView):
    """An admin invites someone to the club; joining then skips approval."""

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=30)

    class OutputSerializer(serializers.Serializer):
        user = UserSummarySerializer()
        created = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 201: OutputSerializer, **errors(409)},
    )
    def post(self, request, slug):
        data = valid_body(self.InputSerializer, request)
        invite, created = services.club_invite_create(
            actor=request.user,
            club=club_get(slug=slug),
            user=user_get(username=data.validated_data["username"]),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.OutputSerializer(invite).data, status=code)


class ClubMemberApi(APIView):
    """An admin's hand on one membership: approve, change the role, remove."""

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=ClubMembership.Role.choices, required=False)
        status = serializers.ChoiceField(
            choices=[ClubMembership.Status.ACTIVE],
            required=False,
            help_text="`active` approves a pending request.",
        )

    @extend_schema(request=InputSerializer, responses={200: MembershipSerializer, **errors(409)})
    def patch(self, request, slug, username):
        club, user = club_get(slug=slug), user_get(username=username)
        data = valid_body(self.InputSerializer, request)
        if not data.validated_data:
            # The schema allows an empty change; there is nothing to do (422).
            raise ApplicationError("Give a new role, or status `active`.")
        membership = None
        if "status" in data.validated_data:
            membership = services.club_membership_approve(actor=request.user, club=club, user=user)
        if "role" in data.validated_data:
            membership = services.club_member_set_role(
                actor=request.user, club=club, user=user, role=data.validated_data["role"]
            )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(responses={204: None, **errors(409)})
    def delete(self, request, slug, username):
        services.club_member_remove(
            actor=request.user, club=club_get(slug=slug), user=user_get(username=username)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClubBanSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    reason = serializers.CharField()
    created = serializers.DateTimeField()


class ClubBansApi(APIView):
    """People banned from the club; admins only."""

    pagination_class = Pagination

    @extend_schema(responses={200: ClubBanSerializer(many=True)})
    def get(self, request, slug):
        club = club_get(slug=slug)
        club_membership_as_admin(user=request.user, club=club)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(club_bans(club=club), request, view=self)
        return paginator.get_paginated_response(ClubBanSerializer(page, many=True).data)


class ClubBanApi(APIView):
    """An admin bans someone from the club and all of its rooms, or lifts the ban."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=services.CLUB_BAN_REASON_MAX_LENGTH,
            required=False,
            allow_blank=True,
            default="",
        )

    @extend_schema(
        request=InputSerializer, responses={200: ClubBanSerializer, 201: ClubBanSerializer}
    )
    def post(self, request, slug, username):
        club, user = club_get(slug=slug), user_get(username=username)
        data = valid_body(self.InputSerializer, request)
        ban, created = services.club_ban(
            actor=request.user, club=club, user=user, reason=data.validated_data["reason"]
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ClubBanSerializer(ban).data, status=code)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, username):
        services.club_unban(
            actor=request.user, club=club_get(slug=slug), user=user_get(username=username)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileOutputSerializer(UserSummarySerializer):
    """A profile; a person who blocked the viewer shows only their name."""

    bio = serializers.SerializerMethodField()
    follower_count = serializers.SerializerMethodField()
    following_count = serializers.SerializerMethodField()
    date_joined = serializers.DateTimeField()
    you_follow = serializers.BooleanField(source="viewer_follows")
    follows_you = serializers.BooleanField(source="follows_viewer")
    you_blocked = serializers.BooleanField(source="viewer_blocked")
    blocked_you = serializers.BooleanField(source="blocked_viewer")

    def get_bio(self, user) -> str | None:
        return None if user.blocked_viewer else user.bio

    def get_follower_count(self, user) -> int | None:
        return None if user.blocked_viewer else user.follower_count

    def get_following_count(self, user) -> int | None:
        return None if user.blocked_viewer else user.following_count


class UserDetailApi(APIView):
    @extend_schema(responses={200: ProfileOutputSerializer})
    def get(self, request, username):
        user = user_profile_get(username=username, viewer=request.user)
        return Response(ProfileOutputSerializer(user).data)
