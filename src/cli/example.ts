/** The example doc that `npm start` migrates into the embedded database. */
import { fileURLToPath } from 'node:url';

export const EXAMPLE_SNAPSHOT = fileURLToPath(
  new URL('../../examples/brightline-consulting', import.meta.url),
);
