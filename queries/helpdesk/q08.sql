SELECT r.locale, count(*) FROM desk.requesters r LEFT JOIN desk.tickets t ON t.requester_id = r.id GROUP BY r.locale
