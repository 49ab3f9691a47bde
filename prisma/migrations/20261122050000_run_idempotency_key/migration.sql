-- AlterTable
ALTER TABLE "processor" ALTER COLUMN "implementation_hash" SET DATA TYPE VARCHAR(64);

-- CreateTable
CREATE TABLE "run_idempotency_key" (
    "orchestrated_flow_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_idempotency_key_pkey" PRIMARY KEY ("orchestrated_flow_id","key")
);

