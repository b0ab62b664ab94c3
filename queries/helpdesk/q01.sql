SELECT t.id, t.subject FROM desk.tickets t WHERE t.requester_id = 17 ORDER BY t.created_at DESC LIMIT 20
