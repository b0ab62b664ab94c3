SELECT i.id FROM store.invoices i WHERE NOT EXISTS (SELECT 1 FROM store.invoice_lines l WHERE l.invoice_id = i.id)
