SELECT avg(r.score) FROM desk.ratings r JOIN desk.tickets t ON t.id = r.ticket_id AND t.created_at = r.ticket_created_at WHERE t.assignee_id = 5
