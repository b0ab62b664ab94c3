SELECT m.id, count(*) FROM zoo.people m JOIN zoo.people p ON p.manager_id = m.id GROUP BY m.id
