SELECT o.plan, count(DISTINCT r.id) FROM desk.organizations o JOIN desk.requesters r ON r.organization_id = o.id WHERE o.tags @> ARRAY['vip'] GROUP BY o.plan
