SELECT billing_country, sum(total) FROM store.invoices WHERE invoice_date >= '2022-01-01' GROUP BY billing_country
