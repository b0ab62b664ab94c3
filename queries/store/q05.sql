SELECT count(*) FROM store.customers WHERE note = ''
