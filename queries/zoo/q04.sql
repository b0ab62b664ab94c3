SELECT p.full_name, t.name FROM zoo.people p JOIN zoo.teams t ON t.id = p.team_id WHERE p.salary > 2000
