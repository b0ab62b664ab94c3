SELECT o.tenant, sum(l.qty) FROM zoo.orders o JOIN zoo.order_lines l ON l.tenant = o.tenant AND l.order_id = o.id GROUP BY o.tenant
