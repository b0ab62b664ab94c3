SELECT * FROM store.invoices WHERE customer_id = 17 ORDER BY invoice_date DESC
