import { orchestratedFlowEntity } from '../entities/orchestrated-flow';
import type { ScheduleService } from './service';

/** The OrchestratedFlow entity whose every write keeps the flow's Temporal Schedule in step (see ScheduleService). */
export function withScheduleSync(schedules: ScheduleService): typeof orchestratedFlowEntity {
  return { ...orchestratedFlowEntity, afterWrite: (db, change) => schedules.syncWrite(db, change) };
}
