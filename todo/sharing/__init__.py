"""Shared lists: an owner invites people by email to one of their lists, as editors or
viewers; membership is kept on both sides (the owner's and the member's), in one transaction."""
