SELECT * FROM store.titles WHERE country = 'France' AND kind = 'Movie'
