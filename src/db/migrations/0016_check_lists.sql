-- CHECK constraints without IN lists (docs/architecture.md "Storage").
--
-- SQLite 3.40 evaluates `x IN ('a', 'b', 'c')` with more than two constants
-- by building an ephemeral table, once for every statement that runs the
-- check: an INSERT into bd_people built three and its history row one, a
-- third of an import's time. The same checks as OR chains cost a few
-- comparisons. The constraints keep their meaning, and the stored rows are
-- untouched, so the table definitions are edited in place, the procedure
-- https://sqlite.org/lang_altertable.html#otheralter gives for changing
-- constraints (db_migrate raises the schema cookie after a migration that
-- sets writable_schema). New tables write their lists as OR chains;
-- tests/unit/test_db.c fails on an INSERT that opens an ephemeral table.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'length(code) IN (6, 9, 12, 15)',
    '(length(code) = 6 OR length(code) = 9 OR length(code) = 12 OR length(code) = 15)')
    WHERE type = 'table' AND name = 'org_units';
UPDATE sqlite_schema SET sql = replace(sql, 'kind IN (''city'', ''district'', ''street'', ''community'', ''grid'')',
    '(kind = ''city'' OR kind = ''district'' OR kind = ''street'' OR kind = ''community'' OR kind = ''grid'')')
    WHERE type = 'table' AND name = 'org_units';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''import'', ''manual'', ''demo'')',
    '(source = ''import'' OR source = ''manual'' OR source = ''demo'')')
    WHERE type = 'table' AND name = 'org_units';
UPDATE sqlite_schema SET sql = replace(sql, 'level IN (''city'', ''district'', ''street'', ''community'', ''grid'')',
    '(level = ''city'' OR level = ''district'' OR level = ''street'' OR level = ''community'' OR level = ''grid'')')
    WHERE type = 'table' AND name = 'departments';
UPDATE sqlite_schema SET sql = replace(sql, 'role IN (''resident'', ''grid_inspector'', ''acceptor'', ''dispatcher'',
                                       ''shift_leader'', ''department_staff'', ''community_worker'',
                                       ''data_steward'', ''leader'', ''auditor'', ''admin'')',
    '(role = ''resident'' OR role = ''grid_inspector'' OR role = ''acceptor'' OR role = ''dispatcher'' OR role = ''shift_leader'' OR role = ''department_staff'' OR role = ''community_worker'' OR role = ''data_steward'' OR role = ''leader'' OR role = ''auditor'' OR role = ''admin'')')
    WHERE type = 'table' AND name = 'users';
UPDATE sqlite_schema SET sql = replace(sql, 'kind IN (''component'', ''event'', ''demand'')',
    '(kind = ''component'' OR kind = ''event'' OR kind = ''demand'')')
    WHERE type = 'table' AND name = 'categories';
UPDATE sqlite_schema SET sql = replace(sql, 'standard_ref IN (''GB/T 30428.2-2013'', ''CJ/T 214-2007'',
                                                       ''local'', ''12345'')',
    '(standard_ref = ''GB/T 30428.2-2013'' OR standard_ref = ''CJ/T 214-2007'' OR standard_ref = ''local'' OR standard_ref = ''12345'')')
    WHERE type = 'table' AND name = 'categories';
UPDATE sqlite_schema SET sql = replace(sql, 'step IN (''accept'', ''file'', ''dispatch'', ''handle'', ''verify'')',
    '(step = ''accept'' OR step = ''file'' OR step = ''dispatch'' OR step = ''handle'' OR step = ''verify'')')
    WHERE type = 'table' AND name = 'category_limits';
UPDATE sqlite_schema SET sql = replace(sql, 'area_class IN (''A'', ''B'', ''C'', ''*'')',
    '(area_class = ''A'' OR area_class = ''B'' OR area_class = ''C'' OR area_class = ''*'')')
    WHERE type = 'table' AND name = 'category_limits';
UPDATE sqlite_schema SET sql = replace(sql, 'urgency IN (''normal'', ''urgent'', ''*'')',
    '(urgency = ''normal'' OR urgency = ''urgent'' OR urgency = ''*'')')
    WHERE type = 'table' AND name = 'category_limits';
UPDATE sqlite_schema SET sql = replace(sql, 'unit IN (''natural_minutes'', ''working_minutes'', ''working_days'')',
    '(unit = ''natural_minutes'' OR unit = ''working_minutes'' OR unit = ''working_days'')')
    WHERE type = 'table' AND name = 'category_limits';
UPDATE sqlite_schema SET sql = replace(sql, 'type IN (''image/jpeg'', ''image/png'', ''image/webp'', ''video/mp4'')',
    '(type = ''image/jpeg'' OR type = ''image/png'' OR type = ''image/webp'' OR type = ''video/mp4'')')
    WHERE type = 'table' AND name = 'media';
UPDATE sqlite_schema SET sql = replace(sql, 'channel IN (''web'', ''inspector'', ''hotline'', ''counter'', ''open311'', ''sensor'')',
    '(channel = ''web'' OR channel = ''inspector'' OR channel = ''hotline'' OR channel = ''counter'' OR channel = ''open311'' OR channel = ''sensor'')')
    WHERE type = 'table' AND name = 'cases';
UPDATE sqlite_schema SET sql = replace(sql, 'state IN (''reported'', ''accepted'', ''rejected'', ''filed'', ''dispatched'',
                                         ''signed'', ''rework'', ''handled'', ''returned'', ''disputed'',
                                         ''backlog'', ''verified'', ''closed'', ''review'', ''cancelled'',
                                         ''merged'')',
    '(state = ''reported'' OR state = ''accepted'' OR state = ''rejected'' OR state = ''filed'' OR state = ''dispatched'' OR state = ''signed'' OR state = ''rework'' OR state = ''handled'' OR state = ''returned'' OR state = ''disputed'' OR state = ''backlog'' OR state = ''verified'' OR state = ''closed'' OR state = ''review'' OR state = ''cancelled'' OR state = ''merged'')')
    WHERE type = 'table' AND name = 'cases';
UPDATE sqlite_schema SET sql = replace(sql, 'area_class IN (''A'', ''B'', ''C'')',
    '(area_class = ''A'' OR area_class = ''B'' OR area_class = ''C'')')
    WHERE type = 'table' AND name = 'cases';
UPDATE sqlite_schema SET sql = replace(sql, 'rating IN (''satisfied'', ''basically_satisfied'',
                                                    ''unsatisfied'')',
    '(rating = ''satisfied'' OR rating = ''basically_satisfied'' OR rating = ''unsatisfied'')')
    WHERE type = 'table' AND name = 'cases';
UPDATE sqlite_schema SET sql = replace(sql, 'action IN (''create'', ''update'', ''retire'')',
    '(action = ''create'' OR action = ''update'' OR action = ''retire'')')
    WHERE type = 'table' AND name = 'bd_history';
UPDATE sqlite_schema SET sql = replace(sql, 'use IN (''residential'', ''commercial'', ''office'', ''industrial'',
                                     ''public'', ''mixed'', ''other'')',
    '(use = ''residential'' OR use = ''commercial'' OR use = ''office'' OR use = ''industrial'' OR use = ''public'' OR use = ''mixed'' OR use = ''other'')')
    WHERE type = 'table' AND name = 'bd_buildings';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''collected'', ''imported'', ''shared'')',
    '(source = ''collected'' OR source = ''imported'' OR source = ''shared'')')
    WHERE type = 'table' AND name = 'bd_buildings';
UPDATE sqlite_schema SET sql = replace(sql, 'use IN (''residential'', ''commercial'', ''office'', ''storage'', ''other'')',
    '(use = ''residential'' OR use = ''commercial'' OR use = ''office'' OR use = ''storage'' OR use = ''other'')')
    WHERE type = 'table' AND name = 'bd_houses';
UPDATE sqlite_schema SET sql = replace(sql, 'ownership IN (''private'', ''public_rental'', ''collective'',
                                                 ''enterprise'', ''other'')',
    '(ownership = ''private'' OR ownership = ''public_rental'' OR ownership = ''collective'' OR ownership = ''enterprise'' OR ownership = ''other'')')
    WHERE type = 'table' AND name = 'bd_houses';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''collected'', ''imported'', ''shared'')',
    '(source = ''collected'' OR source = ''imported'' OR source = ''shared'')')
    WHERE type = 'table' AND name = 'bd_houses';
UPDATE sqlite_schema SET sql = replace(sql, 'residency IN (''registered'', ''permanent'', ''floating'')',
    '(residency = ''registered'' OR residency = ''permanent'' OR residency = ''floating'')')
    WHERE type = 'table' AND name = 'bd_people';
UPDATE sqlite_schema SET sql = replace(sql, 'relation IN (''householder'', ''spouse'', ''child'',
                                                          ''parent'', ''grandparent'', ''grandchild'',
                                                          ''sibling'', ''tenant'', ''other'')',
    '(relation = ''householder'' OR relation = ''spouse'' OR relation = ''child'' OR relation = ''parent'' OR relation = ''grandparent'' OR relation = ''grandchild'' OR relation = ''sibling'' OR relation = ''tenant'' OR relation = ''other'')')
    WHERE type = 'table' AND name = 'bd_people';
UPDATE sqlite_schema SET sql = replace(sql, 'employment IN (''employed'', ''self_employed'',
                                                                ''unemployed'', ''retired'',
                                                                ''student'', ''other'')',
    '(employment = ''employed'' OR employment = ''self_employed'' OR employment = ''unemployed'' OR employment = ''retired'' OR employment = ''student'' OR employment = ''other'')')
    WHERE type = 'table' AND name = 'bd_people';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''collected'', ''imported'', ''shared'')',
    '(source = ''collected'' OR source = ''imported'' OR source = ''shared'')')
    WHERE type = 'table' AND name = 'bd_people';
UPDATE sqlite_schema SET sql = replace(sql, 'type IN (''enterprise'', ''social'', ''individual'', ''public'')',
    '(type = ''enterprise'' OR type = ''social'' OR type = ''individual'' OR type = ''public'')')
    WHERE type = 'table' AND name = 'bd_orgs';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''collected'', ''imported'', ''shared'')',
    '(source = ''collected'' OR source = ''imported'' OR source = ''shared'')')
    WHERE type = 'table' AND name = 'bd_orgs';
UPDATE sqlite_schema SET sql = replace(sql, 'state IN (''normal'', ''damaged'', ''lost'', ''removed'')',
    '(state = ''normal'' OR state = ''damaged'' OR state = ''lost'' OR state = ''removed'')')
    WHERE type = 'table' AND name = 'bd_facilities';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''collected'', ''imported'', ''shared'')',
    '(source = ''collected'' OR source = ''imported'' OR source = ''shared'')')
    WHERE type = 'table' AND name = 'bd_facilities';
UPDATE sqlite_schema SET sql = replace(sql, 'kind IN (''civil_defense'', ''garage'', ''commercial'', ''other'')',
    '(kind = ''civil_defense'' OR kind = ''garage'' OR kind = ''commercial'' OR kind = ''other'')')
    WHERE type = 'table' AND name = 'bd_spaces';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''collected'', ''imported'', ''shared'')',
    '(source = ''collected'' OR source = ''imported'' OR source = ''shared'')')
    WHERE type = 'table' AND name = 'bd_spaces';
UPDATE sqlite_schema SET sql = replace(sql, 'entity IN (''people'', ''houses'', ''buildings'', ''orgs'', ''facilities'',
                                           ''spaces'')',
    '(entity = ''people'' OR entity = ''houses'' OR entity = ''buildings'' OR entity = ''orgs'' OR entity = ''facilities'' OR entity = ''spaces'')')
    WHERE type = 'table' AND name = 'bd_share_apps';
UPDATE sqlite_schema SET sql = replace(sql, 'state IN (''pending'', ''approved'', ''refused'',
                                                          ''revoked'')',
    '(state = ''pending'' OR state = ''approved'' OR state = ''refused'' OR state = ''revoked'')')
    WHERE type = 'table' AND name = 'bd_share_apps';
UPDATE sqlite_schema SET sql = replace(sql, 'action IN (''apply'', ''approve'', ''refuse'', ''revoke'')',
    '(action = ''apply'' OR action = ''approve'' OR action = ''refuse'' OR action = ''revoke'')')
    WHERE type = 'table' AND name = 'bd_share_history';
