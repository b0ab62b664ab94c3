SELECT t.id FROM desk.tickets t WHERE t.custom->>'channel' = 'chat' AND t.status = 'open'
