"""A user's lists of tasks (projects): named, ordered by hand, trashed and restored with their
tasks, and in the change feed."""
