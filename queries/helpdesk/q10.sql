SELECT date_trunc('week', created_at), count(*) FROM desk.tickets WHERE body_length > 200 GROUP BY 1 ORDER BY 1
