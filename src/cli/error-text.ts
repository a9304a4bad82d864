/** An error as the command line says it: the load's refusals and stops, and the mappings' problems, in the reports' words. */
import { CommittedRunError, LoadRefusedError, RunStoppedError } from '../load/lifecycle/with-run.ts';
import { mappingErrorText } from '../report/mapping-problems.ts';
import { committedThenFailedText, refusalText, stoppedText } from '../report/reasons.ts';
import { MappingError } from '../transform/mapping-problems.ts';

export function errorText(error: unknown): string {
  if (error instanceof LoadRefusedError) return refusalText(error.refusal);
  if (error instanceof MappingError) return mappingErrorText(error);
  if (error instanceof RunStoppedError) return stoppedText(error.note);
  if (error instanceof CommittedRunError) return committedThenFailedText(error.runId, error.message);
  return error instanceof Error ? error.message : String(error);
}
