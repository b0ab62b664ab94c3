SELECT count(*) FROM desk.tickets WHERE assignee_id IS NULL AND status IN ('new', 'open')
