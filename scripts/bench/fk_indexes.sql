-- The indexes of migration revision 005_add_fk_indexes (one per foreign key
-- column that had none), under the same names. Revision 005 creates them
-- during `migration up`: once it is merged, every statement here is a no-op.
\set ON_ERROR_STOP on
SET maintenance_work_mem = '256MB';
CREATE INDEX IF NOT EXISTS idx_analyses_case_id ON analyses (case_id);
CREATE INDEX IF NOT EXISTS idx_artifacts_case_id ON artifacts (case_id);
CREATE INDEX IF NOT EXISTS idx_artifacts_created_by ON artifacts (created_by);
CREATE INDEX IF NOT EXISTS idx_audits_case_id ON audits (case_id);
CREATE INDEX IF NOT EXISTS idx_cba_template_schemas_case_id ON cba_template_schemas (case_id);
CREATE INDEX IF NOT EXISTS idx_dao_criteria_case_id ON dao_criteria (case_id);
CREATE INDEX IF NOT EXISTS idx_documents_case_id ON documents (case_id);
CREATE INDEX IF NOT EXISTS idx_documents_offer_id ON documents (offer_id);
CREATE INDEX IF NOT EXISTS idx_extractions_artifact_id ON extractions (artifact_id);
CREATE INDEX IF NOT EXISTS idx_extractions_case_id ON extractions (case_id);
CREATE INDEX IF NOT EXISTS idx_lots_case_id ON lots (case_id);
CREATE INDEX IF NOT EXISTS idx_memory_entries_case_id ON memory_entries (case_id);
CREATE INDEX IF NOT EXISTS idx_offer_extractions_artifact_id ON offer_extractions (artifact_id);
CREATE INDEX IF NOT EXISTS idx_offer_extractions_case_id ON offer_extractions (case_id);
CREATE INDEX IF NOT EXISTS idx_offers_case_id ON offers (case_id);
CREATE INDEX IF NOT EXISTS idx_role_permissions_permission_id ON role_permissions (permission_id);
