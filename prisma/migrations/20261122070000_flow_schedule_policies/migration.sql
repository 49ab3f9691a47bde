-- CreateEnum
CREATE TYPE "ScheduleOverlapPolicy" AS ENUM ('Skip', 'BufferOne', 'BufferAll', 'CancelOther', 'TerminateOther', 'AllowAll');

-- AlterTable
ALTER TABLE "orchestrated_flow" ADD COLUMN     "catchup_window_ms" INTEGER NOT NULL DEFAULT 60000,
ADD COLUMN     "overlap_policy" "ScheduleOverlapPolicy" NOT NULL DEFAULT 'Skip';

-- Hand-written (Prisma cannot express it): the catch-up window is 10 s (the Temporal minimum) to a week.
ALTER TABLE "orchestrated_flow" ADD CONSTRAINT "orchestrated_flow_catchup_window"
  CHECK ("catchup_window_ms" BETWEEN 10000 AND 604800000);
