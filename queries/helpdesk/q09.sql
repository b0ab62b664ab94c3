SELECT t.id FROM desk.tickets t WHERE NOT EXISTS (SELECT 1 FROM desk.comments c WHERE c.ticket_id = t.id AND c.ticket_created_at = t.created_at AND c.author_agent_id IS NOT NULL)
