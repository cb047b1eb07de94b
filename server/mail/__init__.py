"""Outgoing mail: an outbox written in the caller's transaction, sent by the job worker after commit.

`queue_mail` is the one entry point (server/mail/services.py); the worker's tasks live in
server/mail/tasks.py, the SMTP transport in server/mail/transport.py.
"""

from server.mail.services import absolute_url, queue_mail

__all__ = ["absolute_url", "queue_mail"]
