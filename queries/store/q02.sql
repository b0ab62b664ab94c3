SELECT t.name, count(*) FROM store.invoice_lines l JOIN store.tracks t ON t.id = l.track_id GROUP BY t.name ORDER BY count(*) DESC LIMIT 10
