SELECT t.* FROM store.tracks t WHERE t.composer IS NULL AND t.milliseconds > 600000
