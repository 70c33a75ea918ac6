import importlib

import factory
from django.contrib.auth.models import Group, Permission
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


def follower_of(person, **fields):
    """A new person who follows `person` (a co-host must follow the host)."""
    follower = UserFactory(**fields)
    FollowFactory(follower=follower, followee=person)
    return follower


def moderators_group() -> Group:
    """The "Moderators" group as its data migration makes it. Transactional tests flush the
    migration's rows away, so then it is made again from the migration's own list."""
    migration = importlib.import_module("accounts.migrations.0003_moderators_group")
    group, created = Group.objects.get_or_create(name=migration.GROUP)
    if created:
        # Reports and the log moved to the moderation app since, their permissions with them.
        for label, codenames in migration.PERMISSIONS.items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label__in=[label, "moderation"], codename__in=codenames
                )
            )
        chat = importlib.import_module("chat.migrations.0002_moderators_read_chat")
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="chat", codename__in=chat.CODENAMES)
        )
    return group


def make_moderator(**fields):
    """A staff member in the Moderators group."""
    person = UserFactory(is_staff=True, **fields)
    person.groups.add(moderators_group())
    return person
