-- Uses the trigram index in production (pg_trgm), a sequential scan where the extension is missing.
SELECT id, name, email
FROM customers
WHERE name ILIKE '%' || $1 || '%'
ORDER BY name
LIMIT 50;
