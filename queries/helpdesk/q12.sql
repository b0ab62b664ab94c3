SELECT c.* FROM desk.comments c WHERE c.ticket_id = 12345 ORDER BY c.created_at
