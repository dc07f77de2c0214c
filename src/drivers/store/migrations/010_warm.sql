-- The warm pool: a pool server booted with a group's personality but not in rotation remembers
-- the group it is warm for (null when cold, serving, or warm for a group since deleted), and a
-- move records its kind (null: an ordinary move between a group or the pool and a group or the
-- pool; 'warm-up', 'warm-join', 'cool-down': see src/core/dispatch/move.ts).
ALTER TABLE servers ADD COLUMN warm_for text NULL REFERENCES groups(id) ON DELETE SET NULL;
ALTER TABLE moves ADD COLUMN kind text NULL;
