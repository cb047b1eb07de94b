"""Socket.IO `/live` namespace (filled in by its issue)."""
