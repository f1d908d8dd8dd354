"""The history of completions: every completion of a user's tasks, newest first."""
