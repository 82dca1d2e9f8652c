-- Seeds :ncases procurement cases into a migrated DMS database, set-based
-- (generate_series), for scripts/bench_server.sh. Per case: 1 procurement
-- reference, 2 lots, 2 offers with 1 document each, 3 artifacts (the DAO
-- and the 2 offers), 2 memory entries and 4 DAO criteria: 17 rows.
--
-- Run it twice at once, with -v part1=1 -v part2=0 and the other way round,
-- to use two cores (the FK triggers are off, so the order does not matter).
--
-- Ids are UUID-shaped and derived from the case number n, so that the load
-- tools can pick a case at random without a list of ids:
--   case n          00000000-0000-4000-8000-<n, 12 digits>
--   child k of n    0000000T-000K-4000-8000-<n, 12 digits>  (T = table)
--
-- cases.ref_id and procurement_references.case_id reference each other:
-- the session skips FK triggers (session_replication_role = replica, the
-- bench runs as the superuser) and writes consistent rows in one go.
\set ON_ERROR_STOP on
SET session_replication_role = replica;
SET synchronous_commit = off;

CREATE TEMP TABLE bench_params AS
SELECT
  (SELECT id FROM users WHERE username = 'admin') AS admin_id,
  (SELECT min(id) FROM procurement_categories) AS category_id,
  (SELECT min(id) FROM purchase_categories) AS purchase_category_id;

CREATE OR REPLACE FUNCTION pg_temp.bench_id(t int, k int, n bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT lpad(t::text, 8, '0') || '-' || lpad(k::text, 4, '0') || '-4000-8000-' || lpad(n::text, 12, '0') $$;

\if :part1
INSERT INTO cases (id, case_type, title, lot, created_at, status, ref_id, category_id,
                   purchase_category_id, estimated_value, closing_date, procedure_type,
                   total_upload_size, owner_id)
SELECT pg_temp.bench_id(0, 0, n), 'DAO', 'Fourniture de matériel médical, dossier ' || n,
       'LOT 1', '2026-02-10T09:00:00', 'open', pg_temp.bench_id(1, 0, n), p.category_id,
       p.purchase_category_id, 50000 + (n % 1000) * 100.25, '2026-03-31T23:59:59',
       'appel_offres_ouvert', 3145728, p.admin_id
FROM generate_series(1, :ncases) AS n, bench_params p;

INSERT INTO procurement_references (id, case_id, ref_type, ref_number, year, sequence,
                                    created_at, created_by)
SELECT pg_temp.bench_id(1, 0, n), pg_temp.bench_id(0, 0, n), 'DAO',
       'DAO-2026-' || lpad(n::text, 7, '0'), 2026, n, '2026-02-10T09:00:00', p.admin_id
FROM generate_series(1, :ncases) AS n, bench_params p;

INSERT INTO lots (id, case_id, lot_number, description, estimated_value, created_at, category_id)
SELECT pg_temp.bench_id(2, k, n), pg_temp.bench_id(0, 0, n), k::text,
       'Lot ' || k || ' : équipements et consommables', 25000 + k * 1000,
       '2026-02-10T09:0' || k || ':00', p.category_id
FROM generate_series(1, :ncases) AS n, generate_series(1, 2) AS k, bench_params p;

INSERT INTO offers (id, case_id, supplier_name, offer_type, file_hash, submitted_at, created_at)
SELECT pg_temp.bench_id(3, k, n), pg_temp.bench_id(0, 0, n), 'Fournisseur ' || k || ' SARL',
       'technique', lpad(to_hex(n::bigint * 7919 + k), 64, 'f'),
       '2026-02-1' || k || 'T14:00:00', '2026-02-1' || k || 'T14:00:00'
FROM generate_series(1, :ncases) AS n, generate_series(1, 2) AS k;

\endif

\if :part2
INSERT INTO documents (id, case_id, offer_id, filename, path, uploaded_at)
SELECT pg_temp.bench_id(4, k, n), pg_temp.bench_id(0, 0, n), pg_temp.bench_id(3, k, n),
       'offre_technique_' || k || '.pdf',
       'uploads/' || pg_temp.bench_id(0, 0, n) || '/' || pg_temp.bench_id(5, k, n) || '.pdf',
       '2026-02-1' || k || 'T14:00:00'
FROM generate_series(1, :ncases) AS n, generate_series(1, 2) AS k;

INSERT INTO artifacts (id, case_id, kind, filename, path, uploaded_at, meta_json, created_at, created_by)
SELECT pg_temp.bench_id(5, k, n), pg_temp.bench_id(0, 0, n),
       CASE k WHEN 0 THEN 'dao' ELSE 'offer' END,
       CASE k WHEN 0 THEN 'dao.pdf' ELSE 'offre_technique_' || k || '.pdf' END,
       'uploads/' || pg_temp.bench_id(0, 0, n) || '/' || pg_temp.bench_id(5, k, n) || '.pdf',
       '2026-02-1' || k || 'T14:00:00',
       '{"original_name": "offre.pdf", "size": 1048576, "sha256": "' || lpad(to_hex(n::bigint * 7919 + k), 64, 'e') || '"}',
       '2026-02-1' || k || 'T14:00:00', p.admin_id
FROM generate_series(1, :ncases) AS n, generate_series(0, 2) AS k, bench_params p;

INSERT INTO memory_entries (id, case_id, entry_type, content_json, created_at)
SELECT pg_temp.bench_id(6, k, n), pg_temp.bench_id(0, 0, n),
       CASE k WHEN 1 THEN 'upload' ELSE 'decision' END,
       CASE k WHEN 1 THEN '{"kind": "dao", "filename": "dao.pdf"}'
              ELSE '{"decision": "Attribuer le lot 1 au Fournisseur 1 SARL", "justification": "offre la mieux disante"}' END,
       '2026-02-2' || k || 'T10:00:00'
FROM generate_series(1, :ncases) AS n, generate_series(1, 2) AS k;

INSERT INTO dao_criteria (id, case_id, categorie, critere_nom, description, ponderation,
                          type_reponse, seuil_elimination, ordre_affichage, created_at)
SELECT pg_temp.bench_id(7, k, n), pg_temp.bench_id(0, 0, n),
       CASE WHEN k <= 2 THEN 'technique' ELSE 'financier' END,
       'Critère ' || k, 'Conformité aux spécifications, point ' || k, 25,
       'note', CASE WHEN k = 1 THEN 50 END, k, '2026-02-10T09:00:00'
FROM generate_series(1, :ncases) AS n, generate_series(1, 4) AS k;

\endif

RESET session_replication_role;
