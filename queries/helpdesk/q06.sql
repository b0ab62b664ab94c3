SELECT t.id, count(c.id) FROM desk.tickets t JOIN desk.comments c ON c.ticket_id = t.id AND c.ticket_created_at = t.created_at WHERE t.priority = 'urgent' GROUP BY t.id
