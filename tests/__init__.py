"""Tests. Set before any test module imports the config: one key-encryption key per run, shared with
every server a test starts (they seal and open the same database's signing keys; production config
refuses the public development key)."""

import base64
import os

os.environ.setdefault("KEY_ENCRYPTION_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
