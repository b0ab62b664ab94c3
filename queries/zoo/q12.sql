SELECT t.id FROM zoo.teams t WHERE NOT EXISTS (SELECT 1 FROM zoo.bookings b JOIN zoo.people p ON p.id = b.host_id WHERE p.team_id = t.id)
