"""Import every model so metadata (migrations, create_all) sees the whole schema."""

from server.accounts.models import AccountLink, ApiToken, Membership, RememberToken, User  # noqa: F401
from server.audit.models import AuditEntry  # noqa: F401
from server.catalog.models import (  # noqa: F401
    AdmissionCount,
    Event,
    EventQuota,
    Municipality,
    Programme,
    School,
    SchoolQuota,
    Venue,
)
from server.checkins.models import Checkin, Kiosk  # noqa: F401
from server.mail.models import MailAttachment, MailRateSlot, MailSuppression, OutgoingMail  # noqa: F401
from server.meetings.models import ConnectionPoint, MeetingQuota, ParentMeeting  # noqa: F401
from server.notifications.models import MailRun, MailSettings  # noqa: F401
from server.privacy.models import Erasure  # noqa: F401
from server.reports.models import ReportSubscription  # noqa: F401
from server.tickets.models import ClassGroup, Consent, SigningKey, Student, Ticket  # noqa: F401
from tenants.models import Tenant  # noqa: F401
