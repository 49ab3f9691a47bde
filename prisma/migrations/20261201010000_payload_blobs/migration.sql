-- CreateTable
CREATE TABLE "payload_blob" (
    "hash" CHAR(64) NOT NULL,
    "size" INTEGER NOT NULL,
    "content_type" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "data" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payload_blob_pkey" PRIMARY KEY ("hash")
);

-- CreateTable
CREATE TABLE "payload_blob_run" (
    "hash" CHAR(64) NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payload_blob_run_pkey" PRIMARY KEY ("hash","workflow_id","run_id")
);

-- CreateIndex
CREATE INDEX "payload_blob_run_workflow_id_run_id_idx" ON "payload_blob_run"("workflow_id", "run_id");

-- AddForeignKey
ALTER TABLE "payload_blob_run" ADD CONSTRAINT "payload_blob_run_hash_fkey" FOREIGN KEY ("hash") REFERENCES "payload_blob"("hash") ON DELETE CASCADE ON UPDATE CASCADE;

