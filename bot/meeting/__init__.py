"""Around the meeting: the session in calendars (iCalendar, a Discord scheduled event)."""
