SELECT n.note FROM zoo.event_notes n JOIN zoo.events e ON e.id = n.event_id AND e.at = n.event_at WHERE e.kind = 'buy'
