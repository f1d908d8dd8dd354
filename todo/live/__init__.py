"""Live: the feed's event stream (Server-Sent Events), opened with single-use tickets."""
