-- Real-time backbone: the event log that every live screen reads.
-- Kept in step with ../postgres/0003_live.sql: same tables, same columns.
--
-- A change that another screen cares about (a room's status, a patient moved, a lab
-- result...) is written here in the same transaction as the change itself, so the log
-- holds exactly what was committed. Delivery (in-process fan-out, LISTEN/NOTIFY) is only
-- a way to read it early; a subscriber that missed something reads it from here.
--
-- Events carry identifiers and codes, never names or results: a screen that needs the
-- details fetches them through the server functions, which check access and audit reads.

-- The last id handed out. Taking the next id updates this single row, and the row stays
-- locked until the transaction ends, so ids are handed out in commit order: whoever has
-- seen id N has seen every id below it (no slower transaction can commit a smaller id
-- later). A rolled-back transaction gives its id back, so there are no holes either.
CREATE TABLE event_counter (
    only_row        INTEGER PRIMARY KEY CHECK (only_row = 1),
    last_id         INTEGER NOT NULL,
    -- Events up to this id were pruned: a subscriber further behind must reload its data.
    pruned_through  INTEGER NOT NULL
);
INSERT INTO event_counter (only_row, last_id, pruned_through) VALUES (1, 0, 0);

-- topic: who may see it ('rooms', 'lab', 'visit:42'); kind: what happened ('room.status');
-- subject_id: the room, visit or specimen it is about; code: a short code (new status, flag).
CREATE TABLE event (
    id          INTEGER PRIMARY KEY,
    topic       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    subject_id  INTEGER,
    code        TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX event_by_time ON event (created_at);
