"""The change feed, the trash as a whole and atomic batches: what keeps clients in sync."""
