SELECT l.* FROM store.invoice_lines l WHERE l.invoice_id = 1234
