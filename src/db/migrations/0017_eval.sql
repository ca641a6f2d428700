-- 考评: evaluation by outcomes (docs/eval.md). Everything here is derived from
-- the case timeline (case_events, case_steps, the case row) by src/eval, and
-- can be counted anew from it (`grassroots eval rebuild`).

-- What each case counts for, one row a case: the 0/1 outcomes (and the
-- handling time) that the indicators add up. A case is counted in the
-- period of the local day it was reported (its cohort); its row changes as
-- its timeline grows, and so do the sums below. The columns are the
-- counters of src/eval/eval_facts.c, in its order (a test compares them).
CREATE TABLE eval_facts (
    case_id INTEGER PRIMARY KEY REFERENCES cases (id),
    -- Local (Asia/Shanghai) date of the report, YYYYMMDD.
    day INTEGER NOT NULL,
    category_id INTEGER,
    city_id INTEGER,
    district_id INTEGER,
    street_id INTEGER,
    community_id INTEGER,
    grid_id INTEGER,
    -- The department handling it (dispatched last, not returned since);
    -- NULL: none, or the territorial street.
    department_id INTEGER,
    -- The departments that returned it: "dept:returns:disputes" joined by
    -- ";" (their eval_daily rows count those); NULL: none.
    returned_by TEXT,
    -- The posts that took part: "user:steps" joined by ";" (steps: the
    -- EVAL_POST_ bits of src/eval/eval.h); their eval_daily rows (kind 2)
    -- count the counters of those steps.
    posts TEXT,
    reported INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    filed INTEGER NOT NULL DEFAULT 0,
    filed_on_time INTEGER NOT NULL DEFAULT 0,
    dispatched INTEGER NOT NULL DEFAULT 0,
    dispatched_on_time INTEGER NOT NULL DEFAULT 0,
    dispatched_ok INTEGER NOT NULL DEFAULT 0,
    returns INTEGER NOT NULL DEFAULT 0,
    disputes INTEGER NOT NULL DEFAULT 0,
    to_handle INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    handled_on_time INTEGER NOT NULL DEFAULT 0,
    overdue_pending INTEGER NOT NULL DEFAULT 0,
    extended INTEGER NOT NULL DEFAULT 0,
    reworked INTEGER NOT NULL DEFAULT 0,
    to_close INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    closed_on_time INTEGER NOT NULL DEFAULT 0,
    handle_ms INTEGER NOT NULL DEFAULT 0,
    handle_timed INTEGER NOT NULL DEFAULT 0,
    callbacks INTEGER NOT NULL DEFAULT 0,
    contacted INTEGER NOT NULL DEFAULT 0,
    resolved INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    basically_satisfied INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    public_first INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX eval_facts_day ON eval_facts (day);

-- The daily sums of eval_facts for every org unit of a case's chain (kind
-- 0), for its department (kind 1) and for its posts (kind 2, by user id): the indicators of any unit and any
-- period add up a few rows a day, not the cases. Kept by the sync, which
-- adds the difference a case's new facts make. Keyed by unit (one unit's
-- period is one range); the day index serves every unit at once.
CREATE TABLE eval_daily (
    kind INTEGER NOT NULL CHECK (kind = 0 OR kind = 1 OR kind = 2),
    unit_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    reported INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    filed INTEGER NOT NULL DEFAULT 0,
    filed_on_time INTEGER NOT NULL DEFAULT 0,
    dispatched INTEGER NOT NULL DEFAULT 0,
    dispatched_on_time INTEGER NOT NULL DEFAULT 0,
    dispatched_ok INTEGER NOT NULL DEFAULT 0,
    returns INTEGER NOT NULL DEFAULT 0,
    disputes INTEGER NOT NULL DEFAULT 0,
    to_handle INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    handled_on_time INTEGER NOT NULL DEFAULT 0,
    overdue_pending INTEGER NOT NULL DEFAULT 0,
    extended INTEGER NOT NULL DEFAULT 0,
    reworked INTEGER NOT NULL DEFAULT 0,
    to_close INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    closed_on_time INTEGER NOT NULL DEFAULT 0,
    handle_ms INTEGER NOT NULL DEFAULT 0,
    handle_timed INTEGER NOT NULL DEFAULT 0,
    callbacks INTEGER NOT NULL DEFAULT 0,
    contacted INTEGER NOT NULL DEFAULT 0,
    resolved INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    basically_satisfied INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    public_first INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, unit_id, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX eval_daily_day ON eval_daily (day);

-- The same sums a month at a time: a year of every unit adds up twelve
-- rows a unit, not 365 (the days of a period's first and last month that
-- are not whole come from eval_daily).
CREATE TABLE eval_monthly (
    kind INTEGER NOT NULL CHECK (kind = 0 OR kind = 1 OR kind = 2),
    unit_id INTEGER NOT NULL,
    month INTEGER NOT NULL,
    reported INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    filed INTEGER NOT NULL DEFAULT 0,
    filed_on_time INTEGER NOT NULL DEFAULT 0,
    dispatched INTEGER NOT NULL DEFAULT 0,
    dispatched_on_time INTEGER NOT NULL DEFAULT 0,
    dispatched_ok INTEGER NOT NULL DEFAULT 0,
    returns INTEGER NOT NULL DEFAULT 0,
    disputes INTEGER NOT NULL DEFAULT 0,
    to_handle INTEGER NOT NULL DEFAULT 0,
    handled INTEGER NOT NULL DEFAULT 0,
    handled_on_time INTEGER NOT NULL DEFAULT 0,
    overdue_pending INTEGER NOT NULL DEFAULT 0,
    extended INTEGER NOT NULL DEFAULT 0,
    reworked INTEGER NOT NULL DEFAULT 0,
    to_close INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    closed_on_time INTEGER NOT NULL DEFAULT 0,
    handle_ms INTEGER NOT NULL DEFAULT 0,
    handle_timed INTEGER NOT NULL DEFAULT 0,
    callbacks INTEGER NOT NULL DEFAULT 0,
    contacted INTEGER NOT NULL DEFAULT 0,
    resolved INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    basically_satisfied INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    public_first INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, unit_id, month)
) STRICT, WITHOUT ROWID;
CREATE INDEX eval_monthly_month ON eval_monthly (month);

-- How far the sync has read the timeline: the last case_events id whose
-- case's facts are counted.
CREATE TABLE eval_sync (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
) STRICT;
INSERT INTO eval_sync (id, last_event_id) VALUES (1, 0);

-- The definitions, denominators and weights, a version per period: a
-- version applies from its month on, until a later one; a report names the
-- version it used. Version 1 (the defaults of docs/eval.md) is written by
-- src/eval when the table is empty.
CREATE TABLE eval_configs (
    version INTEGER PRIMARY KEY,
    -- The first month it applies to, YYYYMM.
    valid_from INTEGER NOT NULL UNIQUE,
    -- JSON: {"indicators": {...}, "composite": {...}}, checked by src/eval.
    config TEXT NOT NULL CHECK (json_valid(config)),
    note TEXT CHECK (note IS NULL OR length(note) <= 500),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
) STRICT;

-- Version 1: the definitions of docs/eval.md. A rate is the weighted sum of
-- its numerator's counters over the sum of its denominator's; "scale"
-- multiplies an average (milliseconds to hours); "lower_is_better" scores a
-- rate as 1 - rate in the composite. Weights of the composite: Beijing's
-- 12345 三率 (0.1 响应率, 0.5 解决率, 0.4 满意率, 基本满意 credited 0.9).
INSERT INTO eval_configs (version, valid_from, config, note, created_by, created_at) VALUES (1, 190001, '{
 "indicators": {
  "response_rate": {"name": "响应率", "numerator": {"contacted": 1}, "denominator": ["callbacks"]},
  "resolution_rate": {"name": "解决率", "numerator": {"resolved": 1}, "denominator": ["callbacks"]},
  "satisfaction_rate": {"name": "满意率", "numerator": {"satisfied": 1, "basically_satisfied": 0.9}, "denominator": ["callbacks"]},
  "dispose_rate": {"name": "处置率", "numerator": {"handled": 1}, "denominator": ["to_handle"]},
  "dispose_on_time_rate": {"name": "按期处置率", "numerator": {"handled_on_time": 1}, "denominator": ["to_handle"]},
  "close_rate": {"name": "结案率", "numerator": {"closed": 1}, "denominator": ["to_close"]},
  "close_on_time_rate": {"name": "按期结案率", "numerator": {"closed_on_time": 1}, "denominator": ["to_close"]},
  "rework_rate": {"name": "返工率", "numerator": {"reworked": 1}, "denominator": ["to_close"], "lower_is_better": true},
  "overdue_pending_rate": {"name": "超期待处置率", "numerator": {"overdue_pending": 1}, "denominator": ["to_handle"], "lower_is_better": true},
  "extension_rate": {"name": "延期率", "numerator": {"extended": 1}, "denominator": ["to_handle"], "lower_is_better": true},
  "accurate_dispatch_rate": {"name": "准确派遣率", "numerator": {"dispatched_ok": 1}, "denominator": ["dispatched"]},
  "file_on_time_rate": {"name": "按时立案率", "numerator": {"filed_on_time": 1}, "denominator": ["filed"]},
  "miss_rate": {"name": "漏报率", "numerator": {"public_first": 1}, "denominator": ["filed"], "lower_is_better": true},
  "avg_handle_hours": {"name": "平均处置时长(工作小时)", "numerator": {"handle_ms": 1}, "denominator": ["handle_timed"], "scale": 0.0000002777777777777778, "kind": "average"},
  "returns": {"name": "退单数", "numerator": {"returns": 1}, "kind": "count"},
  "disputes": {"name": "争议数", "numerator": {"disputes": 1}, "kind": "count"}
 },
 "composite": {"response_rate": 0.1, "resolution_rate": 0.5, "satisfaction_rate": 0.4}
}', 'the defaults of docs/eval.md', NULL, 0);

-- 从解决一件事到治理一类事: a recurring problem a leader adopted as a governance
-- topic (docs/eval.md, "Recurring problems"): what it is about (a category,
-- at a place or across a unit), the cases that showed it, who owns it, the
-- plan, and its progress as notes.
CREATE TABLE eval_topics (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    -- 'place': the same category comes back at one place; 'trend': a
    -- category rises across a unit against its baseline.
    source TEXT NOT NULL CHECK (source = 'place' OR source = 'trend'),
    category_id INTEGER NOT NULL REFERENCES categories (id),
    unit_id INTEGER NOT NULL REFERENCES org_units (id),
    lat REAL,
    lon REAL,
    -- JSON array of the case ids that showed it when it was adopted.
    cases TEXT NOT NULL CHECK (json_valid(cases)),
    owner_user_id INTEGER NOT NULL REFERENCES users (id),
    plan TEXT NOT NULL CHECK (length(plan) BETWEEN 1 AND 4000),
    progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state = 'open' OR state = 'done' OR state = 'dropped'),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((lat IS NULL) = (lon IS NULL))
) STRICT;
CREATE INDEX eval_topics_unit ON eval_topics (unit_id, state);

CREATE TABLE eval_topic_notes (
    id INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL REFERENCES eval_topics (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    at INTEGER NOT NULL,
    progress INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    state TEXT NOT NULL CHECK (state = 'open' OR state = 'done' OR state = 'dropped'),
    note TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 4000)
) STRICT;
CREATE INDEX eval_topic_notes_topic ON eval_topic_notes (topic_id, id);
