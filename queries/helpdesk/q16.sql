SELECT r.id, r.email FROM desk.requesters r WHERE r.phone IS NULL AND r.organization_id IS NULL
