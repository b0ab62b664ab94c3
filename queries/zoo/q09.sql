SELECT a.id FROM zoo.all_types a WHERE a.c_int BETWEEN 100 AND 900 ORDER BY a.c_timestamptz
