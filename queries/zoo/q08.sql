SELECT count(*) FROM zoo.log_lines WHERE level = 'error' AND at > '2024-06-01 06:00+00'
