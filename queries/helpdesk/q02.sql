SELECT a.name, count(*) FROM desk.tickets t JOIN desk.agents a ON a.id = t.assignee_id WHERE t.status IN ('new', 'open', 'pending') GROUP BY a.name
