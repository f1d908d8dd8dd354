"""Your data goes where you go: exports (JSON, iCalendar, CSV), imports, calendar feeds."""
