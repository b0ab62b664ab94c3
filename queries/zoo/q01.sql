SELECT e.kind, count(*) FROM zoo.events e WHERE e.at >= '2024-06-01' AND e.at < '2025-03-01' GROUP BY e.kind
