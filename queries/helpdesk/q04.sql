SELECT t.id FROM desk.tickets t WHERE t.tags @> ARRAY['bug']
