/** A mapping error as the command line says it, for asserting its words. */
import { mappingErrorText } from '../../src/report/mapping-problems.ts';
import { MappingError } from '../../src/transform/mapping-problems.ts';

/** The words of the MappingError that `act` throws or rejects with; anything else fails the test. */
export async function mappingErrorWords(act: () => unknown): Promise<string> {
  try {
    await act();
  } catch (error) {
    if (error instanceof MappingError) return mappingErrorText(error);
    throw error;
  }
  throw new Error('expected the mappings to be refused');
}
