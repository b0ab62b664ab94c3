SELECT * FROM store.customers WHERE email = 'customer42@example.com'
