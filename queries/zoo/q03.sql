SELECT r.name FROM zoo.regions r WHERE r.region = 'us'
