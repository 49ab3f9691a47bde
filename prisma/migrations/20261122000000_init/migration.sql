-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "EntryCondition" AS ENUM ('PreviousSuccess', 'PreviousFailure', 'Always', 'Never');

-- CreateTable
CREATE TABLE "schema" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "definition" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "schema_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "processor" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "input_schema_id" UUID NOT NULL,
    "output_schema_id" UUID NOT NULL,
    "implementation_hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "processor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "step" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "processor_id" UUID NOT NULL,
    "entry_condition" "EntryCondition" NOT NULL DEFAULT 'PreviousSuccess',
    "configuration" JSONB,
    "retry_policy" JSONB,
    "timeouts" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "step_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "step_next" (
    "step_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "next_step_id" UUID NOT NULL,

    CONSTRAINT "step_next_pkey" PRIMARY KEY ("step_id","position")
);

-- CreateTable
CREATE TABLE "workflow" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "workflow_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_step" (
    "workflow_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "step_id" UUID NOT NULL,

    CONSTRAINT "workflow_step_pkey" PRIMARY KEY ("workflow_id","position")
);

-- CreateTable
CREATE TABLE "orchestrated_flow" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "workflow_id" UUID NOT NULL,
    "cron_expression" TEXT,
    "is_schedule_enabled" BOOLEAN NOT NULL DEFAULT false,
    "timezone" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "orchestrated_flow_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orchestrated_flow_assignment" (
    "orchestrated_flow_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "assignment_id" UUID NOT NULL,

    CONSTRAINT "orchestrated_flow_assignment_pkey" PRIMARY KEY ("orchestrated_flow_id","position")
);

-- CreateTable
CREATE TABLE "assignment" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "step_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "assignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "assignment_entity" (
    "assignment_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "address_id" UUID,
    "delivery_id" UUID,

    CONSTRAINT "assignment_entity_pkey" PRIMARY KEY ("assignment_id","position")
);

-- CreateTable
CREATE TABLE "address" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "connection_string" TEXT NOT NULL,
    "configuration" JSONB NOT NULL DEFAULT '{}',
    "schema_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "address_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delivery" (
    "id" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "connection_string" TEXT NOT NULL,
    "configuration" JSONB NOT NULL DEFAULT '{}',
    "schema_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "schema_version_name_key" ON "schema"("version", "name");

-- CreateIndex
CREATE INDEX "processor_input_schema_id_idx" ON "processor"("input_schema_id");

-- CreateIndex
CREATE INDEX "processor_output_schema_id_idx" ON "processor"("output_schema_id");

-- CreateIndex
CREATE UNIQUE INDEX "processor_version_name_key" ON "processor"("version", "name");

-- CreateIndex
CREATE INDEX "step_processor_id_idx" ON "step"("processor_id");

-- CreateIndex
CREATE UNIQUE INDEX "step_version_name_key" ON "step"("version", "name");

-- CreateIndex
CREATE INDEX "step_next_next_step_id_idx" ON "step_next"("next_step_id");

-- CreateIndex
CREATE UNIQUE INDEX "step_next_step_id_next_step_id_key" ON "step_next"("step_id", "next_step_id");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_version_name_key" ON "workflow"("version", "name");

-- CreateIndex
CREATE INDEX "workflow_step_step_id_idx" ON "workflow_step"("step_id");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_step_workflow_id_step_id_key" ON "workflow_step"("workflow_id", "step_id");

-- CreateIndex
CREATE INDEX "orchestrated_flow_workflow_id_idx" ON "orchestrated_flow"("workflow_id");

-- CreateIndex
CREATE UNIQUE INDEX "orchestrated_flow_version_name_key" ON "orchestrated_flow"("version", "name");

-- CreateIndex
CREATE INDEX "orchestrated_flow_assignment_assignment_id_idx" ON "orchestrated_flow_assignment"("assignment_id");

-- CreateIndex
CREATE UNIQUE INDEX "orchestrated_flow_assignment_orchestrated_flow_id_assignmen_key" ON "orchestrated_flow_assignment"("orchestrated_flow_id", "assignment_id");

-- CreateIndex
CREATE INDEX "assignment_step_id_idx" ON "assignment"("step_id");

-- CreateIndex
CREATE UNIQUE INDEX "assignment_version_name_key" ON "assignment"("version", "name");

-- CreateIndex
CREATE INDEX "assignment_entity_address_id_idx" ON "assignment_entity"("address_id");

-- CreateIndex
CREATE INDEX "assignment_entity_delivery_id_idx" ON "assignment_entity"("delivery_id");

-- CreateIndex
CREATE UNIQUE INDEX "assignment_entity_assignment_id_address_id_key" ON "assignment_entity"("assignment_id", "address_id");

-- CreateIndex
CREATE UNIQUE INDEX "assignment_entity_assignment_id_delivery_id_key" ON "assignment_entity"("assignment_id", "delivery_id");

-- CreateIndex
CREATE INDEX "address_schema_id_idx" ON "address"("schema_id");

-- CreateIndex
CREATE UNIQUE INDEX "address_version_name_connection_string_key" ON "address"("version", "name", "connection_string");

-- CreateIndex
CREATE INDEX "delivery_schema_id_idx" ON "delivery"("schema_id");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_version_name_connection_string_key" ON "delivery"("version", "name", "connection_string");

-- AddForeignKey
ALTER TABLE "processor" ADD CONSTRAINT "processor_input_schema_id_fkey" FOREIGN KEY ("input_schema_id") REFERENCES "schema"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "processor" ADD CONSTRAINT "processor_output_schema_id_fkey" FOREIGN KEY ("output_schema_id") REFERENCES "schema"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "step" ADD CONSTRAINT "step_processor_id_fkey" FOREIGN KEY ("processor_id") REFERENCES "processor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "step_next" ADD CONSTRAINT "step_next_step_id_fkey" FOREIGN KEY ("step_id") REFERENCES "step"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "step_next" ADD CONSTRAINT "step_next_next_step_id_fkey" FOREIGN KEY ("next_step_id") REFERENCES "step"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_step" ADD CONSTRAINT "workflow_step_workflow_id_fkey" FOREIGN KEY ("workflow_id") REFERENCES "workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_step" ADD CONSTRAINT "workflow_step_step_id_fkey" FOREIGN KEY ("step_id") REFERENCES "step"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orchestrated_flow" ADD CONSTRAINT "orchestrated_flow_workflow_id_fkey" FOREIGN KEY ("workflow_id") REFERENCES "workflow"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orchestrated_flow_assignment" ADD CONSTRAINT "orchestrated_flow_assignment_orchestrated_flow_id_fkey" FOREIGN KEY ("orchestrated_flow_id") REFERENCES "orchestrated_flow"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orchestrated_flow_assignment" ADD CONSTRAINT "orchestrated_flow_assignment_assignment_id_fkey" FOREIGN KEY ("assignment_id") REFERENCES "assignment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "assignment" ADD CONSTRAINT "assignment_step_id_fkey" FOREIGN KEY ("step_id") REFERENCES "step"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "assignment_entity" ADD CONSTRAINT "assignment_entity_assignment_id_fkey" FOREIGN KEY ("assignment_id") REFERENCES "assignment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "assignment_entity" ADD CONSTRAINT "assignment_entity_address_id_fkey" FOREIGN KEY ("address_id") REFERENCES "address"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "assignment_entity" ADD CONSTRAINT "assignment_entity_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "delivery"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "address" ADD CONSTRAINT "address_schema_id_fkey" FOREIGN KEY ("schema_id") REFERENCES "schema"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery" ADD CONSTRAINT "delivery_schema_id_fkey" FOREIGN KEY ("schema_id") REFERENCES "schema"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written constraints Prisma cannot express.
-- Each assignment entity is exactly one of an Address or a Delivery.
ALTER TABLE "assignment_entity" ADD CONSTRAINT "assignment_entity_exactly_one_target"
  CHECK (num_nonnulls("address_id", "delivery_id") = 1);
-- A processor's implementation hash is a lowercase SHA-256 hex digest.
ALTER TABLE "processor" ADD CONSTRAINT "processor_implementation_hash_sha256"
  CHECK ("implementation_hash" ~ '^[0-9a-f]{64}$');
-- A step never lists itself as its next step (longer cycles are rejected by the API's graph validation).
ALTER TABLE "step_next" ADD CONSTRAINT "step_next_not_self" CHECK ("step_id" <> "next_step_id");
