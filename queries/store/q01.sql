SELECT c.id, c.email, sum(i.total) FROM store.customers c JOIN store.invoices i ON i.customer_id = c.id WHERE c.region = 'Zürich' GROUP BY c.id, c.email
