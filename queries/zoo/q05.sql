SELECT b.id FROM zoo.bookings b WHERE b.guest_id IS NULL AND b.room_id = 3
