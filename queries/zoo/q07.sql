SELECT u."user", g."Ünïcode Value" FROM "Odd Schema"."User" u JOIN "Odd Schema"."Grant" g ON g."user" = u."user" WHERE u."select" IS NULL
