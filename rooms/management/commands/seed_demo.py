"""Demo people, follows, clubs and upcoming rooms, so that a new installation looks alive."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from follows.models import Club, ClubFollow, ClubMembership, Follow
from rooms.models import Room, RoomRsvp, Topic
from rooms.services.lifecycle import room_create

DEMO_PASSWORD = "roundtable-demo"  # noqa: S105 -- documented, demo accounts only

PEOPLE = [
    (
        "maya",
        "Maya Okafor",
        "Night-owl radio host. Jazz, late trains, and the people who ride them.",
    ),
    ("theo", "Theo Lindqvist", "Product designer in Malmö. I ask too many questions about chairs."),
    ("priya", "Priya Raman", "Founder, two-time. Happy to talk fundraising at any hour."),
    ("sam", "Sam Carter", "Sound engineer. If your mic crackles, I will hear it."),
    ("lena", "Lena Fischer", "Climate researcher; weekly open rooms on cities that stay cool."),
    ("omar", "Omar Haddad", "Backend engineer, part-time oud player."),
]

FOLLOWS = [
    ("theo", "maya"),
    ("priya", "maya"),
    ("sam", "maya"),
    ("lena", "maya"),
    ("omar", "maya"),
    ("maya", "theo"),
    ("priya", "theo"),
    ("maya", "priya"),
    ("omar", "priya"),
    ("lena", "priya"),
    ("maya", "sam"),
    ("theo", "lena"),
    ("omar", "lena"),
    ("sam", "omar"),
]

CLUBS = [
    {
        "slug": "night-owls",
        "name": "Night Owls",
        "description": "Late-night conversations about music, radio and the city after dark.",
        "join_policy": Club.JoinPolicy.OPEN,
        "members": [("maya", "admin"), ("theo", "leader"), ("sam", "member"), ("omar", "member")],
        "pending": [],
        "followers": ["lena", "priya"],
    },
    {
        "slug": "founders-circle",
        "name": "Founders Circle",
        "description": "Founders helping founders: fundraising, hiring, and the hard weeks.",
        "join_policy": Club.JoinPolicy.APPROVAL,
        "members": [("priya", "admin"), ("lena", "leader"), ("omar", "member")],
        "pending": ["sam"],
        "followers": ["maya"],
    },
]


@dataclass(frozen=True)
class DemoRoom:
    """A scheduled room: who hosts it, in which club, how many hours from now, its topics,
    and who asked to be reminded."""

    title: str
    host: str
    hours: int
    description: str
    topics: tuple[str, ...]
    club: str | None = None
    reminded: tuple[str, ...] = ()


# Live rooms are not seeded: with no moderator connected they would end after the grace
# period; start one from the hallway instead. These spread over the coming week, each with
# topics, so the hallway's topic chips find rooms.
ROOMS = [
    DemoRoom(
        "Cities that stay cool",
        "lena",
        3,
        "Shade, water and the streets that survive a heatwave. Bring your city's tricks.",
        ("science", "travel"),
        reminded=("theo", "omar"),
    ),
    DemoRoom(
        "Late-night jazz: records that changed us",
        "maya",
        26,
        "One record each, two minutes each, then the floor is open.",
        ("music", "culture"),
        club="night-owls",
        reminded=("theo", "sam"),
    ),
    DemoRoom(
        "Fundraising office hours",
        "priya",
        50,
        "Bring your deck or your question; we go round the table.",
        ("business",),
        club="founders-circle",
        reminded=("omar", "lena"),
    ),
    DemoRoom(
        "Chairs, and why we keep designing them",
        "theo",
        75,
        "A designer's obsession, explained. Bring a photo of the chair you sit on.",
        ("art-design",),
    ),
    DemoRoom(
        "Learning the oud at thirty",
        "omar",
        98,
        "Maqamat for beginners, and what practising late at night does to the neighbours.",
        ("music", "education"),
        reminded=("maya",),
    ),
    DemoRoom(
        "Mic check: making a home studio sound good",
        "sam",
        122,
        "Rooms, rugs and cheap microphones. Ask anything; I will listen to your setup live.",
        ("technology",),
    ),
    DemoRoom(
        "Books for long train rides",
        "maya",
        146,
        "Everyone brings one book and one line from it.",
        ("books", "travel"),
        club="night-owls",
        reminded=("lena",),
    ),
]


class Command(BaseCommand):
    help = f"Creates demo people (password '{DEMO_PASSWORD}'), follows, clubs and rooms."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when anyone has signed up already."
        )
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (never in production)."
        )

    @transaction.atomic
    def handle(self, *args, if_empty=False, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts have a public password; run with DEBUG=1 or --force.")
        if if_empty and User.objects.exists():
            self.stdout.write("People exist already; no demo data loaded.")
            return
        people = {}
        for username, display_name, bio in PEOPLE:
            user, created = User.objects.get_or_create(
                username=username, defaults={"display_name": display_name, "bio": bio}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            people[username] = user
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"display_name": "Site admin", "is_staff": True, "is_superuser": True},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
        # Staff with only the Moderators group's permissions (made by a migration).
        moderator, created = User.objects.get_or_create(
            username="mod", defaults={"display_name": "Morgan Moderator", "is_staff": True}
        )
        if created:
            moderator.set_password(DEMO_PASSWORD)
            moderator.save(update_fields=["password"])
            moderator.groups.add(*Group.objects.filter(name="Moderators"))
        for follower, followee in FOLLOWS:
            Follow.objects.get_or_create(follower=people[follower], followee=people[followee])
        for spec in CLUBS:
            club, _ = Club.objects.get_or_create(
                slug=spec["slug"],
                defaults={
                    "name": spec["name"],
                    "description": spec["description"],
                    "join_policy": spec["join_policy"],
                    "created_by": people[spec["members"][0][0]],
                },
            )
            for username, role in spec["members"]:
                ClubMembership.objects.get_or_create(
                    club=club, user=people[username], defaults={"role": role}
                )
            for username in spec["pending"]:
                ClubMembership.objects.get_or_create(
                    club=club,
                    user=people[username],
                    defaults={"status": ClubMembership.Status.PENDING},
                )
            for username in spec["followers"]:
                ClubFollow.objects.get_or_create(club=club, user=people[username])
        self._rooms(people)
        names = ", ".join(people)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {names}, admin and mod, all with password '{DEMO_PASSWORD}'."
            )
        )

    @staticmethod
    def _rooms(people):
        top_of_the_hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        for spec in ROOMS:
            room = Room.objects.filter(title=spec.title, host=people[spec.host]).first()
            if room is None:
                room = room_create(
                    host=people[spec.host],
                    title=spec.title,
                    description=spec.description,
                    club=Club.objects.get(slug=spec.club) if spec.club else None,
                    scheduled_for=top_of_the_hour + timedelta(hours=spec.hours),
                    topics=list(Topic.objects.filter(slug__in=spec.topics)),
                )
            for username in spec.reminded:
                RoomRsvp.objects.get_or_create(room=room, user=people[username])
