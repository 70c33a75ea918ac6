import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from follows.models import Block, Club, ClubFollow, ClubMembership, Follow

PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class FollowFactory(DjangoModelFactory):
    class Meta:
        model = Follow

    follower = factory.SubFactory(UserFactory)
    followee = factory.SubFactory(UserFactory)


class BlockFactory(DjangoModelFactory):
    class Meta:
        model = Block

    blocker = factory.SubFactory(UserFactory)
    blocked = factory.SubFactory(UserFactory)


class ClubFactory(DjangoModelFactory):
    class Meta:
        model = Club

    slug = factory.Sequence(lambda n: f"club-{n}")
    name = factory.Sequence(lambda n: f"Club {n}")
    description = "A club for testing."
    join_policy = Club.JoinPolicy.OPEN


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = ClubMembership

    club = factory.SubFactory(ClubFactory)
    user = factory.SubFactory(UserFactory)
    role = ClubMembership.Role.MEMBER
    status = ClubMembership.Status.ACTIVE


class ClubFollowFactory(DjangoModelFactory):
    class Meta:
        model = ClubFollow

    club = factory.SubFactory(ClubFactory)
    user = factory.SubFactory(UserFactory)
