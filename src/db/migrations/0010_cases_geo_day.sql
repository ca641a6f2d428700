-- The duplicate check asks for open cases within 250 m and 7 days. With the
-- place alone in the R*Tree, a busy corner answered with its whole history
-- (some 1,700 rows per intake over 2,000,000 cases), each then read from
-- the table to look at its age. The day of the report is a third dimension,
-- so the tree itself cuts the history off. Day = created_at / 86400000 (UTC
-- days since the epoch; exact in the R*Tree's 32-bit floats); the exact
-- created_at bound is still checked on the row.
CREATE VIRTUAL TABLE cases_geo_day USING rtree(id, min_lat, max_lat, min_lon, max_lon,
                                               min_day, max_day);
INSERT INTO cases_geo_day (id, min_lat, max_lat, min_lon, max_lon, min_day, max_day)
    SELECT c.id, c.lat, c.lat, c.lon, c.lon, c.created_at / 86400000, c.created_at / 86400000
    FROM cases_geo g JOIN cases c ON c.id = g.id;
DROP TABLE cases_geo;
ALTER TABLE cases_geo_day RENAME TO cases_geo;
