SELECT c.support_rep, count(*) FROM store.customers c GROUP BY c.support_rep
