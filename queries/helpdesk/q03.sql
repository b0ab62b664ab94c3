SELECT t.id FROM desk.tickets t WHERE t.search @@ to_tsquery('simple', 'export')
