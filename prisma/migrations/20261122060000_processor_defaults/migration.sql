-- AlterTable
ALTER TABLE "processor" ADD COLUMN     "retry_policy" JSONB,
ADD COLUMN     "timeouts" JSONB;

