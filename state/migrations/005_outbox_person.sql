-- Messages waiting for a person carry her pseudonymous key, so that her quick exit can stop
-- them even after her case has closed (closing unlinks the case from her), and forgetting her
-- takes them with her.
ALTER TABLE outbox ADD COLUMN person_key TEXT REFERENCES people (person_key) ON DELETE CASCADE;
CREATE INDEX outbox_person ON outbox (person_key);
