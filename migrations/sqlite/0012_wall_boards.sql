-- A wall screen shows the board all day (issue 16): a session opened as a wall board
-- reaches the board and nothing else, never locks itself when nobody touches it, and
-- shows patients only shortened. It belongs to the person who set the screen up, whose
-- account list shows it and who (or an administrator) can end it.
-- Kept in step with ../postgres/0012_wall_boards.sql.
ALTER TABLE session ADD COLUMN wall_board INTEGER NOT NULL DEFAULT 0 CHECK (wall_board IN (0, 1));
