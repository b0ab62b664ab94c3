SELECT a.id FROM desk.agents a WHERE a.hours @> timestamptz '2025-01-01 09:30+00' AND a.active
