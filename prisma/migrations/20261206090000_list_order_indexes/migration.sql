-- The CRUD lists every entity in creation order (created_at, then id). Without an index each page sorted the whole
-- table (a top-N sort over every row, for every request), now a page of 100 reads 100 index entries.

-- CreateIndex
CREATE INDEX "schema_created_at_id_idx" ON "schema"("created_at", "id");

-- CreateIndex
CREATE INDEX "processor_created_at_id_idx" ON "processor"("created_at", "id");

-- CreateIndex
CREATE INDEX "step_created_at_id_idx" ON "step"("created_at", "id");

-- CreateIndex
CREATE INDEX "workflow_created_at_id_idx" ON "workflow"("created_at", "id");

-- CreateIndex
CREATE INDEX "orchestrated_flow_created_at_id_idx" ON "orchestrated_flow"("created_at", "id");

-- CreateIndex
CREATE INDEX "assignment_created_at_id_idx" ON "assignment"("created_at", "id");

-- CreateIndex
CREATE INDEX "address_created_at_id_idx" ON "address"("created_at", "id");

-- CreateIndex
CREATE INDEX "delivery_created_at_id_idx" ON "delivery"("created_at", "id");
