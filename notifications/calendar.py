"""iCalendar documents: one scheduled room, or a person's private feed of upcoming rooms."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Alarm, Calendar, Event

# Rooms have no planned end; calendars get this much time blocked out.
ASSUMED_LENGTH = timedelta(hours=1)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Roundtable//Rooms//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(room, absolute_url) -> Event:
    url = absolute_url(room.get_absolute_url())
    event = Event()
    event.add("uid", f"room-{room.pk}@roundtable")
    event.add("dtstamp", timezone.now())
    # Calendars keep the copy with the highest sequence: each change to the room raises it.
    event.add("sequence", room.calendar_sequence)
    event.add("status", "CANCELLED" if room.is_cancelled else "CONFIRMED")
    event.add("dtstart", room.scheduled_for)
    event.add("dtend", room.scheduled_for + ASSUMED_LENGTH)
    event.add("summary", room.title)
    hosted = f"Hosted by {room.host.name}" + (f" for {room.club.name}" if room.club_id else "")
    description = "\n\n".join(part for part in (room.description, hosted, url) if part)
    event.add("description", description)
    event.add("url", url)
    event.add("location", url)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{room.title} starts soon")
    alarm.add("trigger", -timedelta(minutes=settings.ROOM_REMINDER_LEAD_MINUTES))
    event.add_component(alarm)
    return event


def room_calendar(room, *, absolute_url) -> bytes:
    """A scheduled room, or a cancelled one (its STATUS says so, for calendars that hold it
    already)."""
    calendar = _calendar(room.title)
    calendar.add_component(_event(room, absolute_url))
    return calendar.to_ical()


def feed_calendar(rooms, *, absolute_url) -> bytes:
    calendar = _calendar("Roundtable rooms")
    for room in rooms:
        calendar.add_component(_event(room, absolute_url))
    return calendar.to_ical()
