"""What families and schools are told, and when: confirmations, reminders, changes, after-event notes.

`messages` writes each message through `server.mail.queue_mail`; `runs` fans bulk messages out in the
worker; `jobs` plans the timed ones (reminders, after-event, school summaries); `services` holds the
coordinator's side (cancelling an event, the per-event mail counts, settings) and the parent's
(«Найти мой билет», declining).
"""
