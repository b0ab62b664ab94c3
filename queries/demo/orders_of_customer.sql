-- The N+1 query of an order history page: fast with orders_customer_id_idx, a sequential scan without.
SELECT o.id, o.status, o.total, o.created_at
FROM orders o
WHERE o.customer_id = $1
ORDER BY o.created_at DESC
LIMIT 20;
