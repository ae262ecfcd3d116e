-- The visit an event is about, when it is about one (a procedure, a lab order, a
-- critical value, the visit itself), on every topic it is written to (issue 18): a room
-- tablet follows the rooms topic and asks the server again only for its own patient's
-- changes, instead of every tablet reloading for every change of every room. Events
-- written before this migration carry none. Kept in step with
-- ../postgres/0016_event_visit.sql.
ALTER TABLE event ADD COLUMN visit_id INTEGER;
