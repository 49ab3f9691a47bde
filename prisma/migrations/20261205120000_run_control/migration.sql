-- AlterTable
ALTER TABLE "processor" ADD COLUMN     "max_activities_per_second" DOUBLE PRECISION,
ADD COLUMN     "max_concurrent_activities" INTEGER;

-- AlterTable
ALTER TABLE "step" ADD COLUMN     "compensation_configuration" JSONB,
ADD COLUMN     "compensation_processor_id" UUID,
ADD COLUMN     "for_each" JSONB;

-- AlterTable
ALTER TABLE "orchestrated_flow" ADD COLUMN     "max_concurrent_steps" INTEGER;

-- CreateIndex
CREATE INDEX "step_compensation_processor_id_idx" ON "step"("compensation_processor_id");

-- AddForeignKey
ALTER TABLE "step" ADD CONSTRAINT "step_compensation_processor_id_fkey" FOREIGN KEY ("compensation_processor_id") REFERENCES "processor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written (Prisma cannot express them): the ranges the API accepts, so no other writer stores a limit the
-- engine cannot honour, and no compensation configuration without its processor.
ALTER TABLE "processor" ADD CONSTRAINT "processor_max_activities_per_second"
  CHECK ("max_activities_per_second" > 0 AND "max_activities_per_second" <= 100000);
ALTER TABLE "processor" ADD CONSTRAINT "processor_max_concurrent_activities"
  CHECK ("max_concurrent_activities" BETWEEN 1 AND 10000);
ALTER TABLE "orchestrated_flow" ADD CONSTRAINT "orchestrated_flow_max_concurrent_steps"
  CHECK ("max_concurrent_steps" BETWEEN 1 AND 1000);
ALTER TABLE "step" ADD CONSTRAINT "step_compensation_configuration"
  CHECK ("compensation_configuration" IS NULL OR "compensation_processor_id" IS NOT NULL);
