"""Tasks: a user's own tasks, their statements, lists and answers."""
