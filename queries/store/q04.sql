SELECT a.name, count(t.id) FROM store.artists a JOIN store.albums al ON al.artist_id = a.id JOIN store.tracks t ON t.album_id = al.id GROUP BY a.name
