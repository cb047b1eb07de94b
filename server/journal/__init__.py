"""The region's log page («Журнал»): who did what to whose data, read from the audit trail, the
check-ins and the consents. Above them all; `server.audit` itself only records."""
