SELECT v.name FROM zoo.vehicles v WHERE v.id > 120
