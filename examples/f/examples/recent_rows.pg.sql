-- $1 min_id = 0
-- $2 max_rows = 10
SELECT id, label
FROM (VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')) AS t(id, label)
WHERE id > $1::int
ORDER BY id
LIMIT $2::int;
